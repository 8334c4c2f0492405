package authn_test

import (
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

func TestAuthenticate(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Paul", FamilyName: "Durand", BirthDate: mandates.Date(1982, 1, 23),
		Email: "Paul.Durand@example.fr", PasswordHash: authn.HashPassword("bon-mot-de-passe")}
	if err := st.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a := authn.NewAuthenticator(st, st, authn.LoginLimits{Window: 15 * time.Minute, PerAccount: 3, PerAddress: 5}, func() time.Time { return now }, mandatestest.Discard{}, st)

	if got, err := a.Authenticate(ctx, "paul.durand@EXAMPLE.fr", "bon-mot-de-passe", "10.0.0.1"); err != nil || got.ID != p.ID {
		t.Fatalf("right password: %v, %v", got.ID, err)
	}
	for name, try := range map[string][2]string{
		"wrong password": {"paul.durand@example.fr", "mauvais"},
		"unknown email":  {"personne@example.fr", "bon-mot-de-passe"},
	} {
		if _, err := a.Authenticate(ctx, try[0], try[1], "10.0.0.2"); !errors.Is(err, authn.ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", name, err)
		}
	}
	// Two more failures on the account reach its limit of 3: even the right
	// password is refused until the window ends.
	for range 2 {
		a.Authenticate(ctx, "paul.durand@example.fr", "mauvais", "10.0.0.3")
	}
	if _, err := a.Authenticate(ctx, "paul.durand@example.fr", "bon-mot-de-passe", "10.0.0.4"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("after 3 failures: %v, want ErrTooManyAttempts", err)
	}
	now = now.Add(15 * time.Minute)
	if _, err := a.Authenticate(ctx, "paul.durand@example.fr", "bon-mot-de-passe", "10.0.0.4"); err != nil {
		t.Errorf("after the window: %v", err)
	}
	// One address guessing many accounts is stopped too.
	for i := range 5 {
		a.Authenticate(ctx, "x"+string(rune('a'+i))+"@example.fr", "guess", "10.9.9.9")
	}
	if _, err := a.Authenticate(ctx, "paul.durand@example.fr", "bon-mot-de-passe", "10.9.9.9"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("address over its limit: %v, want ErrTooManyAttempts", err)
	}
}
