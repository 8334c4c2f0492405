package storagetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// TOTPStore is what RunTOTPStore needs.
type TOTPStore interface {
	authn.TOTPStore
	authn.PendingLoginStore
	mandates.PersonStore
	mandates.ExpiredStore
}

// RunTOTPStore runs the second-factor and pending-login behaviour suite.
func RunTOTPStore(t *testing.T, newStore func(t *testing.T) TOTPStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s TOTPStore)
	}{
		{"an enrolment is started, confirmed and read back as written", testTOTPRoundTrip},
		{"a person without an enrolment is not found", testTOTPNotFound},
		{"a new start replaces an unconfirmed secret, never a confirmed one", testTOTPRestart},
		{"the last accepted step only moves forward", testTOTPStepForward},
		{"of concurrent uses of one step, exactly one is accepted", testTOTPStepConcurrent},
		{"a recovery code is used once, even by concurrent uses", testRecoveryCodeOnce},
		{"turning the second factor off forgets its recovery codes", testTOTPDelete},
		{"a pending login lives until it expires and is taken once", testPendingLogin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func hashOf(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// enrolled creates a person with a confirmed second factor at step 100 and
// recovery codes "a" to "j" (hashed).
func enrolled(t *testing.T, s TOTPStore) (mandates.Person, []byte) {
	t.Helper()
	ctx := t.Context()
	p := newPerson("")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	secret := []byte("sealed secret " + p.ID)
	if err := s.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: p.ID, Secret: secret, CreatedAt: time.Now()}); err != nil {
		t.Fatalf("StartTOTP: %v", err)
	}
	var codes [][]byte
	for _, c := range "abcdefghij" {
		codes = append(codes, hashOf(string(c)))
	}
	if err := s.ConfirmTOTP(ctx, p.ID, secret, 100, time.Now(), codes); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return p, secret
}

func testTOTPRoundTrip(t *testing.T, s TOTPStore) {
	ctx := t.Context()
	p := newPerson("")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	created := time.Now().UTC().Truncate(time.Millisecond)
	secret := []byte{0, 1, 2, 0xfe, 0xff}
	if err := s.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: p.ID, Secret: secret, CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	e, err := s.TOTP(ctx, p.ID)
	if err != nil || !bytes.Equal(e.Secret, secret) || !e.CreatedAt.Equal(created) || e.Active() || e.LastStep != 0 || e.PersonID != p.ID {
		t.Fatalf("unconfirmed enrolment read back as %+v, %v", e, err)
	}
	confirmed := created.Add(time.Minute)
	if err := s.ConfirmTOTP(ctx, p.ID, secret, 58_000_000, confirmed, [][]byte{hashOf("1"), hashOf("2")}); err != nil {
		t.Fatal(err)
	}
	e, err = s.TOTP(ctx, p.ID)
	if err != nil || !e.Active() || !e.ConfirmedAt.Equal(confirmed) || e.LastStep != 58_000_000 {
		t.Errorf("confirmed enrolment read back as %+v, %v", e, err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, p.ID); err != nil || n != 2 {
		t.Errorf("RecoveryCodesLeft = %d, %v; want 2", n, err)
	}
	// Confirming twice is refused: the second code would be a replay.
	if err := s.ConfirmTOTP(ctx, p.ID, secret, 58_000_001, confirmed, nil); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("second ConfirmTOTP: %v, want ErrNotFound", err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, p.ID); n != 2 {
		t.Errorf("a refused confirmation changed the recovery codes: %d left", n)
	}
}

func testTOTPNotFound(t *testing.T, s TOTPStore) {
	ctx := t.Context()
	for _, id := range []string{mandates.NewID(time.Now()), "not-a-uuid"} {
		if _, err := s.TOTP(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("TOTP(%s) = %v, want ErrNotFound", id, err)
		}
		if err := s.AcceptTOTPStep(ctx, id, 5); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("AcceptTOTPStep(%s) = %v, want ErrNotFound", id, err)
		}
		if err := s.UseRecoveryCode(ctx, id, hashOf("a"), time.Now()); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("UseRecoveryCode(%s) = %v, want ErrNotFound", id, err)
		}
		if err := s.ConfirmTOTP(ctx, id, []byte("x"), 5, time.Now(), nil); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("ConfirmTOTP(%s) = %v, want ErrNotFound", id, err)
		}
		if n, err := s.RecoveryCodesLeft(ctx, id); err != nil || n != 0 {
			t.Errorf("RecoveryCodesLeft(%s) = %d, %v", id, n, err)
		}
		if err := s.DeleteTOTP(ctx, id); err != nil {
			t.Errorf("DeleteTOTP(%s) = %v, want nil", id, err)
		}
	}
	// An unconfirmed enrolment accepts no code.
	p := newPerson("")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: p.ID, Secret: []byte("s"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.AcceptTOTPStep(ctx, p.ID, 5); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("AcceptTOTPStep before confirmation = %v, want ErrNotFound", err)
	}
	// A second factor needs a known person.
	err := s.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: mandates.NewID(time.Now()), Secret: []byte("s"), CreatedAt: time.Now()})
	if !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("StartTOTP for an unknown person = %v, want ErrInvalid", err)
	}
}

func testTOTPRestart(t *testing.T, s TOTPStore) {
	ctx := t.Context()
	p := newPerson("")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	first, second := []byte("first"), []byte("second")
	for _, secret := range [][]byte{first, second} {
		if err := s.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: p.ID, Secret: secret, CreatedAt: time.Now()}); err != nil {
			t.Fatalf("StartTOTP(%s): %v", secret, err)
		}
	}
	// A code checked against the replaced secret cannot turn it on.
	if err := s.ConfirmTOTP(ctx, p.ID, first, 10, time.Now(), nil); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("ConfirmTOTP with the replaced secret = %v, want ErrNotFound", err)
	}
	if err := s.ConfirmTOTP(ctx, p.ID, second, 10, time.Now(), nil); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	if err := s.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: p.ID, Secret: []byte("third"), CreatedAt: time.Now()}); !errors.Is(err, authn.ErrTOTPActive) {
		t.Errorf("StartTOTP over a confirmed one = %v, want ErrTOTPActive", err)
	}
	if e, _ := s.TOTP(ctx, p.ID); !bytes.Equal(e.Secret, second) || !e.Active() || e.LastStep != 10 {
		t.Errorf("after a refused start: %+v", e)
	}
}

func testTOTPStepForward(t *testing.T, s TOTPStore) {
	ctx := t.Context()
	p, _ := enrolled(t, s)
	steps := []struct {
		step int64
		want error
	}{
		{100, authn.ErrCodeUsed}, // the confirmation's own step
		{99, authn.ErrCodeUsed},
		{101, nil},
		{101, authn.ErrCodeUsed},
		{103, nil},
		{102, authn.ErrCodeUsed},
	}
	for _, st := range steps {
		if err := s.AcceptTOTPStep(ctx, p.ID, st.step); !errors.Is(err, st.want) {
			t.Errorf("AcceptTOTPStep(%d) = %v, want %v", st.step, err, st.want)
		}
	}
	if e, _ := s.TOTP(ctx, p.ID); e.LastStep != 103 {
		t.Errorf("last step = %d, want 103", e.LastStep)
	}
}

func testTOTPStepConcurrent(t *testing.T, s TOTPStore) {
	p, _ := enrolled(t, s)
	const n = 8
	var ok, used atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.AcceptTOTPStep(t.Context(), p.ID, 200)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, authn.ErrCodeUsed):
				used.Add(1)
			default:
				t.Errorf("AcceptTOTPStep: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || used.Load() != n-1 {
		t.Errorf("one step used %d times at once: %d accepted, %d refused as used; want 1 and %d", n, ok.Load(), used.Load(), n-1)
	}
}

func testRecoveryCodeOnce(t *testing.T, s TOTPStore) {
	ctx := t.Context()
	p, _ := enrolled(t, s)
	other, _ := enrolled(t, s)
	const n = 8
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.UseRecoveryCode(t.Context(), p.ID, hashOf("c"), time.Now())
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, mandates.ErrNotFound):
				refused.Add(1)
			default:
				t.Errorf("UseRecoveryCode: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || refused.Load() != n-1 {
		t.Errorf("one code used %d times at once: %d accepted, %d refused; want 1 and %d", n, ok.Load(), refused.Load(), n-1)
	}
	if err := s.UseRecoveryCode(ctx, p.ID, hashOf("c"), time.Now()); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("used code again: %v, want ErrNotFound", err)
	}
	if err := s.UseRecoveryCode(ctx, p.ID, hashOf("z"), time.Now()); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("unknown code: %v, want ErrNotFound", err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, p.ID); err != nil || n != 9 {
		t.Errorf("RecoveryCodesLeft = %d, %v; want 9", n, err)
	}
	// Codes belong to their person: the other person's "c" is still unused.
	if err := s.UseRecoveryCode(ctx, other.ID, hashOf("c"), time.Now()); err != nil {
		t.Errorf("the other person's code: %v", err)
	}
}

func testTOTPDelete(t *testing.T, s TOTPStore) {
	ctx := t.Context()
	p, _ := enrolled(t, s)
	if err := s.DeleteTOTP(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TOTP(ctx, p.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("after delete: %v, want ErrNotFound", err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, p.ID); n != 0 {
		t.Errorf("after delete: %d recovery codes left", n)
	}
	// A new enrolment starts afresh: none of the old codes work.
	secret := []byte("new")
	if err := s.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: p.ID, Secret: secret, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmTOTP(ctx, p.ID, secret, 50, time.Now(), [][]byte{hashOf("k")}); err != nil {
		t.Fatalf("ConfirmTOTP after delete: %v", err)
	}
	if err := s.UseRecoveryCode(ctx, p.ID, hashOf("a"), time.Now()); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("an old recovery code after re-enrolment: %v, want ErrNotFound", err)
	}
}

func testPendingLogin(t *testing.T, s TOTPStore) {
	ctx := t.Context()
	p := newPerson("")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	want := authn.PendingLogin{ID: authn.SessionID("token-1"), PersonID: p.ID, AuthTime: now, AMR: []string{"pwd", "mfa"},
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), ACR: "eidas2", Upstream: authn.UpstreamFranceConnect, UpstreamIDToken: "eyJ.id.token"}
	if err := s.CreatePendingLogin(ctx, want); err != nil {
		t.Fatal(err)
	}
	old := authn.PendingLogin{ID: authn.SessionID("token-2"), PersonID: p.ID, AuthTime: now.Add(-time.Hour), AMR: []string{"pwd"},
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}
	if err := s.CreatePendingLogin(ctx, old); err != nil {
		t.Fatal(err)
	}
	same := func(got authn.PendingLogin) bool {
		return got.ID == want.ID && got.PersonID == want.PersonID && got.AuthTime.Equal(want.AuthTime) && slices.Equal(got.AMR, want.AMR) &&
			got.CreatedAt.Equal(want.CreatedAt) && got.ExpiresAt.Equal(want.ExpiresAt) && got.ACR == want.ACR && got.Upstream == want.Upstream &&
			got.UpstreamIDToken == want.UpstreamIDToken
	}
	if got, err := s.PendingLogin(ctx, want.ID, now); err != nil || !same(got) {
		t.Errorf("PendingLogin read back as %+v, %v; want %+v", got, err, want)
	}
	for name, id := range map[string]string{"expired": old.ID, "unknown": authn.SessionID("nope")} {
		if _, err := s.PendingLogin(ctx, id, now); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("PendingLogin(%s) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.TakePendingLogin(ctx, id, now); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("TakePendingLogin(%s) = %v, want ErrNotFound", name, err)
		}
	}

	const n = 8
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			got, err := s.TakePendingLogin(t.Context(), want.ID, now)
			switch {
			case err == nil && same(got):
				ok.Add(1)
			case errors.Is(err, mandates.ErrNotFound):
				refused.Add(1)
			default:
				t.Errorf("TakePendingLogin = %+v, %v", got, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || refused.Load() != n-1 {
		t.Errorf("one pending login taken %d times at once: %d got it, %d refused; want 1 and %d", n, ok.Load(), refused.Load(), n-1)
	}
	if _, err := s.PendingLogin(ctx, want.ID, now); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("after take: %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteExpired(ctx, mandates.ExpiredPendingLogins, now, 100); err != nil || n != 1 {
		t.Errorf("DeleteExpired(pending logins) = %d, %v; want 1", n, err)
	}
}
