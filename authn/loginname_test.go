package authn_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

// TestALoginNameLogsInLikeAnEmail: a person opened at a desk without an
// email logs in with the identifiant of their letter, in any case, under
// the same limits; an unknown identifiant is the same failure as a wrong
// password.
func TestALoginNameLogsInLikeAnEmail(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Rose", FamilyName: "Durand", BirthDate: mandates.Date(1944, 5, 2),
		PasswordHash: authn.HashPassword("bon-mot-de-passe")}
	if err := st.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := st.SetLoginName(ctx, p.ID, "rose.durand.4821"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a := authn.NewAuthenticator(st, st, authn.LoginLimits{Window: 15 * time.Minute, PerAccount: 3, PerAddress: 30}, func() time.Time { return now }, mandatestest.Discard{}, st)

	if got, err := a.Authenticate(ctx, " Rose.Durand.4821 ", "bon-mot-de-passe", "10.0.0.1"); err != nil || got.ID != p.ID {
		t.Fatalf("the identifiant: %v, %v; want Rose", got.ID, err)
	}
	for name, try := range map[string][2]string{
		"wrong password":      {"rose.durand.4821", "mauvais"},
		"unknown identifiant": {"rose.durand.0000", "bon-mot-de-passe"},
	} {
		if _, err := a.Authenticate(ctx, try[0], try[1], "10.0.0.2"); !errors.Is(err, authn.ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", name, err)
		}
	}
	// The identifiant's account has its limit as an email's has.
	for range 2 {
		a.Authenticate(ctx, "ROSE.durand.4821", "mauvais", "10.0.0.3")
	}
	if _, err := a.Authenticate(ctx, "rose.durand.4821", "bon-mot-de-passe", "10.0.0.4"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("after 3 failures: %v, want ErrTooManyAttempts", err)
	}
}

func TestTheRuleOfANewPassword(t *testing.T) {
	tests := []struct {
		name, password, again string
		want                  error
	}{
		{"long enough, typed twice the same", "un bon mot de passe", "un bon mot de passe", nil},
		{"too short", "court", "court", authn.ErrPasswordTooShort},
		{"spaces only", "            ", "            ", authn.ErrPasswordTooShort},
		{"too long", strings.Repeat("a", 129), strings.Repeat("a", 129), authn.ErrPasswordTooLong},
		{"typed differently the second time", "un bon mot de passe", "un bon mot de pass", authn.ErrPasswordsDiffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := authn.CheckNewPassword(tt.password, tt.again); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("CheckNewPassword = %v, want %v", err, tt.want)
			}
		})
	}
	a := authn.NewAuthenticator(nil, nil, authn.LoginLimits{}, nil, mandatestest.Discard{}, noTx{})
	hash, err := a.HashNewPassword(t.Context(), "un bon mot de passe", "un bon mot de passe")
	if ok, verr := authn.VerifyPassword(hash, "un bon mot de passe"); err != nil || verr != nil || !ok {
		t.Errorf("HashNewPassword = %q, %v; want an argon2id hash of it", hash, err)
	}
}
