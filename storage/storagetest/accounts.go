package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

func testPersonsByPivot(t *testing.T, s Store) {
	ctx := t.Context()
	jeanne := newPerson("")
	mustCreatePerson(t, s, jeanne)
	other := newPerson("")
	other.GivenNames = "Paul"
	mustCreatePerson(t, s, other)

	key := mandates.PivotKey(jeanne)
	got, err := s.PersonsByPivot(ctx, key)
	if err != nil || len(got) != 1 || got[0].ID != jeanne.ID {
		t.Fatalf("PersonsByPivot(Jeanne) = %v, %v; want Jeanne alone", personIDs(got), err)
	}
	if got, err := s.PersonsByPivot(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("PersonsByPivot(\"\") = %v, %v; want none", personIDs(got), err)
	}

	// A homonym registered on purpose shares the key: both are found.
	homonym := newPerson("")
	homonym.GivenNames, homonym.FamilyName = "JEANNE-MARIE", "LEFEVRE"
	mustCreatePerson(t, s, homonym)
	if got, err := s.PersonsByPivot(ctx, key); err != nil || len(got) != 2 || got[0].ID > got[1].ID {
		t.Errorf("PersonsByPivot after a homonym = %v, %v; want both, in id order", personIDs(got), err)
	}

	// An update of the pivot identity moves the person to the new key.
	if _, err := s.UpdatePerson(ctx, homonym.ID, func(p *mandates.Person) error {
		p.BirthDate = mandates.Date(1948, time.March, 13)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PersonsByPivot(ctx, key); err != nil || len(got) != 1 || got[0].ID != jeanne.ID {
		t.Errorf("PersonsByPivot after the homonym's birth date was corrected = %v, %v; want Jeanne alone", personIDs(got), err)
	}
}

func personIDs(ps []mandates.Person) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func testSessionUpstream(t *testing.T, s Store) {
	ctx := t.Context()
	p := newPerson("")
	mustCreatePerson(t, s, p)
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, id := authn.NewSessionToken()
	sess := authn.BrowserSession{ID: id, PersonID: p.ID, AuthTime: now, AMR: []string{"pwd", "mfa"}, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour), ACR: "eidas2", Upstream: authn.UpstreamFranceConnect, UpstreamIDToken: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, id, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ACR != sess.ACR || got.Upstream != sess.Upstream || got.UpstreamIDToken != sess.UpstreamIDToken {
		t.Errorf("session read back with acr %q, upstream %q, id token %q; want %q, %q, %q",
			got.ACR, got.Upstream, got.UpstreamIDToken, sess.ACR, sess.Upstream, sess.UpstreamIDToken)
	}
	_, renewed := authn.NewSessionToken()
	next := sess
	next.ID, next.AMR = renewed, []string{"pwd", "mfa", "otp"}
	if err := s.RenewSession(ctx, id, next); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, renewed, now); err != nil || got.Upstream != sess.Upstream || got.UpstreamIDToken != sess.UpstreamIDToken {
		t.Errorf("renewed session = %+v, %v; want the upstream kept", got, err)
	}
}

func testAccountCodes(t *testing.T, s Store) {
	ctx := t.Context()
	p := newPerson("")
	mustCreatePerson(t, s, p)
	now := time.Now().UTC().Truncate(time.Millisecond)
	first := authn.AccountCode{Hash: []byte("hash-one-0123456789012345678901"), PersonID: p.ID, Purpose: authn.PurposeActivation,
		CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}
	if err := s.ReplaceAccountCode(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountCodeByHash(ctx, first.Hash)
	if err != nil || got.PersonID != p.ID || got.Purpose != first.Purpose || !got.ExpiresAt.Equal(first.ExpiresAt) || !got.CreatedAt.Equal(now) {
		t.Fatalf("AccountCodeByHash = %+v, %v; want %+v", got, err, first)
	}
	reset := authn.AccountCode{Hash: []byte("hash-reset-12345678901234567890"), PersonID: p.ID, Purpose: authn.PurposeReset,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.ReplaceAccountCode(ctx, reset); err != nil {
		t.Fatal(err)
	}
	// A second letter voids the first code of its purpose only.
	second := first
	second.Hash = []byte("hash-two-0123456789012345678901")
	if err := s.ReplaceAccountCode(ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountCodeByHash(ctx, first.Hash); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the voided code: %v, want ErrNotFound", err)
	}
	if _, err := s.AccountCodeByHash(ctx, reset.Hash); err != nil {
		t.Errorf("the reset code after a new activation code: %v, want it kept", err)
	}

	// Of two uses at once, one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = s.DeleteAccountCode(context.WithoutCancel(ctx), second.Hash) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), mandates.ErrNotFound) {
		t.Errorf("two deletes of one code: %v; want one success and one ErrNotFound", errs)
	}

	if n, err := s.DeleteExpired(ctx, mandates.ExpiredAccountCodes, now.Add(2*time.Hour), 100); err != nil || n != 1 {
		t.Errorf("DeleteExpired(account codes) = %d, %v; want the reset code", n, err)
	}
	if _, err := s.AccountCodeByHash(ctx, reset.Hash); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the expired code: %v, want ErrNotFound", err)
	}
	// A code belongs to a person who exists.
	ghost := first
	ghost.PersonID = mandates.NewID(now)
	if err := s.ReplaceAccountCode(ctx, ghost); err == nil {
		t.Error("a code for nobody was saved")
	}
}
