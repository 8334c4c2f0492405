package storagetest

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// LoginStore is what RunLoginStore needs.
type LoginStore interface {
	authn.ConsentStore
	authn.AttemptStore
	mandates.PersonStore
	oauth.ClientStore
	mandates.ExpiredStore
}

// RunLoginStore runs the consent and login-attempt behaviour suite.
func RunLoginStore(t *testing.T, newStore func(t *testing.T) LoginStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s LoginStore)
	}{
		{"a consent is saved, replaced, read and deleted", testConsent},
		{"a consent needs a known person and site", testConsentUnknown},
		{"25 concurrent attempts against a limit of 5: exactly 5 are counted", testReserveConcurrent},
		{"40 concurrent attempts from one address against 30: exactly 30 are counted, on address and accounts alike", testReserveConcurrentAddress},
		{"an attempt refused by one limit is counted on none", testReserveAllOrNone},
		{"attempts are counted per key and window, taken back and cleared", testFailuresWindows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testConsent(t *testing.T, s LoginStore) {
	ctx := t.Context()
	p := newPerson("")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, newClient("site")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Consent(ctx, p.ID, "site"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("before any consent: %v", err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	for _, scopes := range [][]string{{"openid"}, {"openid", "email"}} {
		if err := s.SaveConsent(ctx, authn.Consent{PersonID: p.ID, ClientID: "site", Scopes: scopes, GrantedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Consent(ctx, p.ID, "site")
	if err != nil || !slices.Equal(c.Scopes, []string{"openid", "email"}) || !c.GrantedAt.Equal(at) {
		t.Errorf("consent read back as %+v, %v", c, err)
	}
	if err := s.DeleteConsent(ctx, p.ID, "site"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConsent(ctx, p.ID, "site"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func testConsentUnknown(t *testing.T, s LoginStore) {
	err := s.SaveConsent(t.Context(), authn.Consent{PersonID: mandates.NewID(time.Now()), ClientID: "nope", Scopes: []string{"openid"}, GrantedAt: time.Now()})
	if !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("consent for unknown person and site: %v, want ErrInvalid", err)
	}
}

func testReserveConcurrent(t *testing.T, s LoginStore) {
	window := time.Now().UTC().Truncate(time.Minute)
	const tries, limit = 25, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	reserved := 0
	for range tries {
		wg.Go(func() {
			ok, err := s.ReserveAttempt(t.Context(), window, authn.AttemptLimit{Key: "account:a@example.fr", Max: limit})
			if err != nil {
				t.Errorf("ReserveAttempt: %v", err)
			}
			if ok {
				mu.Lock()
				reserved++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if reserved != limit {
		t.Errorf("%d of %d concurrent attempts reserved, want exactly %d", reserved, tries, limit)
	}
	if got, err := s.Failures(t.Context(), "account:a@example.fr", window); err != nil || got != limit {
		t.Errorf("Failures = %d, %v; want %d", got, err, limit)
	}
}

func testReserveConcurrentAddress(t *testing.T, s LoginStore) {
	window := time.Now().UTC().Truncate(time.Minute)
	const tries, limit = 40, 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	reserved := 0
	for i := range tries {
		wg.Go(func() {
			ok, err := s.ReserveAttempt(t.Context(), window,
				authn.AttemptLimit{Key: "account:" + strconv.Itoa(i) + "@example.fr", Max: 5},
				authn.AttemptLimit{Key: "address:192.0.2.1", Max: limit})
			if err != nil {
				t.Errorf("ReserveAttempt: %v", err)
			}
			if ok {
				mu.Lock()
				reserved++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if reserved != limit {
		t.Errorf("%d of %d concurrent attempts reserved, want exactly %d", reserved, tries, limit)
	}
	if got, err := s.Failures(t.Context(), "address:192.0.2.1", window); err != nil || got != limit {
		t.Errorf("address Failures = %d, %v; want %d", got, err, limit)
	}
	accounts := 0
	for i := range tries {
		n, err := s.Failures(t.Context(), "account:"+strconv.Itoa(i)+"@example.fr", window)
		if err != nil {
			t.Fatal(err)
		}
		accounts += n
	}
	if accounts != limit {
		t.Errorf("the accounts counted %d attempts, want %d: a refused attempt was counted on its account", accounts, limit)
	}
}

func testReserveAllOrNone(t *testing.T, s LoginStore) {
	ctx := t.Context()
	window := time.Now().UTC().Truncate(time.Minute)
	account := authn.AttemptLimit{Key: "account:a@example.fr", Max: 2}
	for i := range 2 {
		if ok, err := s.ReserveAttempt(ctx, window, account); err != nil || !ok {
			t.Fatalf("attempt %d under the limit: %v, %v", i+1, ok, err)
		}
	}
	// "address:" sorts after "account:", so it is refused before it is
	// counted; "aaa:" sorts before, so it is counted, then taken back.
	for _, address := range []string{"address:192.0.2.1", "aaa:192.0.2.1"} {
		ok, err := s.ReserveAttempt(ctx, window, account, authn.AttemptLimit{Key: address, Max: 30})
		if err != nil || ok {
			t.Errorf("attempt over the account's limit: %v, %v; want refused", ok, err)
		}
		if n, err := s.Failures(ctx, address, window); err != nil || n != 0 {
			t.Errorf("%s counted %d (%v) for a refused attempt", address, n, err)
		}
	}
	if n, _ := s.Failures(ctx, account.Key, window); n != 2 {
		t.Errorf("the account counted %d, want 2", n)
	}
}

func testFailuresWindows(t *testing.T, s LoginStore) {
	ctx := t.Context()
	w1 := time.Now().UTC().Truncate(time.Minute)
	w2 := w1.Add(15 * time.Minute)
	reserve := func(key string, window time.Time) {
		t.Helper()
		if ok, err := s.ReserveAttempt(ctx, window, authn.AttemptLimit{Key: key, Max: 100}); err != nil || !ok {
			t.Fatalf("ReserveAttempt(%s) = %v, %v", key, ok, err)
		}
	}
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w1); n != 0 {
		t.Errorf("unknown key: %d", n)
	}
	for i := 1; i <= 3; i++ {
		reserve("address:1.2.3.4", w1)
		if n, err := s.Failures(ctx, "address:1.2.3.4", w1); err != nil || n != i {
			t.Fatalf("after attempt #%d: %d, %v", i, n, err)
		}
	}
	if err := s.ReleaseAttempt(ctx, "address:1.2.3.4", w1); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w1); n != 2 {
		t.Errorf("after one taken back: %d, want 2", n)
	}
	if err := s.ReleaseAttempt(ctx, "address:9.9.9.9", w1); err != nil {
		t.Errorf("taking back from an unknown key: %v", err)
	}
	reserve("address:1.2.3.4", w2)
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w2); n != 1 {
		t.Errorf("a new window starts at %d", n)
	}
	reserve("address:5.6.7.8", w1)
	if n, _ := s.Failures(ctx, "address:5.6.7.8", w1); n != 1 {
		t.Errorf("another key starts at %d", n)
	}
	// DeleteExpired takes the windows started at or before its time: the
	// last millisecond before w2 leaves w2's.
	if n, err := s.DeleteExpired(ctx, mandates.ExpiredLoginAttempts, w2.Add(-time.Millisecond), 100); err != nil || n != 2 {
		t.Errorf("DeleteExpired(login attempts) = %d, %v; want 2", n, err)
	}
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w1); n != 0 {
		t.Errorf("the old window after the deletion: %d, want 0", n)
	}
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w2); n != 1 {
		t.Errorf("the current window after the deletion: %d, want 1 (kept)", n)
	}
	if err := s.ClearFailures(ctx, "address:1.2.3.4"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w2); n != 0 {
		t.Errorf("after clear: %d", n)
	}
	reserve("address:5.6.7.8", w2)
	for range 3 {
		if err := s.ReleaseAttempt(ctx, "address:5.6.7.8", w2); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.Failures(ctx, "address:5.6.7.8", w2); n != 0 {
		t.Errorf("taken back below zero: %d", n)
	}
}
