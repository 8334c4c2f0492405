package storagetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
)

// LoginStore is what RunLoginStore needs.
type LoginStore interface {
	authz.ConsentStore
	authz.AttemptStore
	mandates.PersonStore
	authz.ClientStore
}

// RunLoginStore runs the consent and login-attempt behaviour suite.
func RunLoginStore(t *testing.T, newStore func(t *testing.T) LoginStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s LoginStore)
	}{
		{"a consent is saved, replaced, read and deleted", testConsent},
		{"a consent needs a known person and site", testConsentUnknown},
		{"concurrent failures are all counted", testFailuresConcurrent},
		{"failures are counted per key and window, and cleared", testFailuresWindows},
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
		if err := s.SaveConsent(ctx, authz.Consent{PersonID: p.ID, ClientID: "site", Scopes: scopes, GrantedAt: at}); err != nil {
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
	err := s.SaveConsent(t.Context(), authz.Consent{PersonID: mandates.NewID(time.Now()), ClientID: "nope", Scopes: []string{"openid"}, GrantedAt: time.Now()})
	if !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("consent for unknown person and site: %v, want ErrInvalid", err)
	}
}

func testFailuresConcurrent(t *testing.T, s LoginStore) {
	window := time.Now().UTC().Truncate(time.Minute)
	const n = 12
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.AddFailure(t.Context(), "account:a@example.fr", window); err != nil {
				t.Errorf("AddFailure: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.Failures(t.Context(), "account:a@example.fr", window)
	if err != nil || got != n {
		t.Errorf("Failures = %d, %v; want %d", got, err, n)
	}
}

func testFailuresWindows(t *testing.T, s LoginStore) {
	ctx := t.Context()
	w1 := time.Now().UTC().Truncate(time.Minute)
	w2 := w1.Add(15 * time.Minute)
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w1); n != 0 {
		t.Errorf("unknown key: %d", n)
	}
	for i := 1; i <= 3; i++ {
		if n, err := s.AddFailure(ctx, "address:1.2.3.4", w1); err != nil || n != i {
			t.Fatalf("AddFailure #%d = %d, %v", i, n, err)
		}
	}
	if n, _ := s.AddFailure(ctx, "address:1.2.3.4", w2); n != 1 {
		t.Errorf("a new window starts at %d", n)
	}
	if n, _ := s.AddFailure(ctx, "address:5.6.7.8", w1); n != 1 {
		t.Errorf("another key starts at %d", n)
	}
	if n, err := s.DeleteOldAttempts(ctx, w2); err != nil || n != 2 {
		t.Errorf("DeleteOldAttempts = %d, %v; want 2", n, err)
	}
	if err := s.ClearFailures(ctx, "address:1.2.3.4"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Failures(ctx, "address:1.2.3.4", w2); n != 0 {
		t.Errorf("after clear: %d", n)
	}
}
