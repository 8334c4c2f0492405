package authn_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// recorded reads back what the journal holds, in every chain.
func recorded(t *testing.T, st *sqlite.Store) []journal.Stored {
	t.Helper()
	var out []journal.Stored
	if err := st.JournalEntries(t.Context(), "", func(s journal.Stored) error { out = append(out, s); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func types(es []journal.Stored) []mandates.EventType {
	var out []mandates.EventType
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func realJournal(st *sqlite.Store) mandates.EventSink { return journal.New(st, journal.Options{}) }

// failingSink refuses every event, as a journal whose store fails does.
type failingSink struct{}

func (failingSink) Emit(context.Context, mandates.Event) error {
	return errors.New("the journal is down")
}

// TestLoginAndSecondFactorEvents drives each login and second-factor act
// and reads the journal on SQLite: each act wrote its event, in the
// person's chain, with the person as actor.
func TestLoginAndSecondFactorEvents(t *testing.T) {
	f := newTOTPFixtureWith(t, realJournal)
	ctx := t.Context()
	var codes []string
	acts := []struct {
		name string
		act  func() error
		want []mandates.EventType // the entries this act adds; none for a refused act
	}{
		{"a right password is a login", func() error {
			_, err := f.auth.Authenticate(ctx, f.person.Email, "bon-mot-de-passe", "192.0.2.1")
			return err
		}, []mandates.EventType{mandates.EventLoginSucceeded}},
		{"a wrong password is a failed login", func() error {
			_, err := f.auth.Authenticate(ctx, f.person.Email, "mauvais", "192.0.2.1")
			return expect(err, authn.ErrBadCredentials)
		}, []mandates.EventType{mandates.EventLoginFailed}},
		{"an email nobody has is journaled nowhere", func() error {
			_, err := f.auth.Authenticate(ctx, "personne@example.fr", "mauvais", "192.0.2.1")
			return expect(err, authn.ErrBadCredentials)
		}, nil},
		{"turning the second factor on is journaled", func() error {
			codes = f.enrol(t)
			return nil
		}, []mandates.EventType{mandates.EventSecondFactorEnrolled}},
		{"a right code is a second factor used", func() error {
			return f.totp.Verify(ctx, f.person.ID, f.code(t, 0))
		}, []mandates.EventType{mandates.EventSecondFactorUsed}},
		{"a wrong code is a failed second factor", func() error {
			return expect(f.totp.Verify(ctx, f.person.ID, "000000"), authn.ErrBadCode)
		}, []mandates.EventType{mandates.EventSecondFactorFailed}},
		{"a recovery code is journaled as such", func() error {
			return f.totp.UseRecoveryCode(ctx, f.person.ID, codes[0])
		}, []mandates.EventType{mandates.EventRecoveryCodeUsed}},
		{"turning the second factor off is journaled", func() error {
			return f.totp.Disable(ctx, f.person.ID)
		}, []mandates.EventType{mandates.EventSecondFactorDisabled}},
	}
	before := 0
	for _, a := range acts {
		if err := a.act(); err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		got := recorded(t, f.st)
		added := got[before:]
		before = len(got)
		if !slices.Equal(types(added), a.want) {
			t.Errorf("%s: journal added %v, want %v", a.name, types(added), a.want)
		}
		for _, e := range added {
			if e.Chain != f.person.ID || e.PersonID != f.person.ID || e.ActorID != f.person.ID {
				t.Errorf("%s: entry in chain %q for person %q by %q, want all %q", a.name, e.Chain, e.PersonID, e.ActorID, f.person.ID)
			}
		}
	}
	if rep, err := journal.Verify(ctx, f.st, nil, ""); err != nil || !rep.OK() {
		t.Errorf("the journal does not verify: %v %v", err, rep.Failure)
	}
}

func expect(err, want error) error {
	if !errors.Is(err, want) {
		return errors.Join(errors.New("unexpected answer"), err)
	}
	return nil
}

// TestAJournalThatFailsStopsTheLogin: the act and its event commit
// together, or neither does.
func TestAJournalThatFailsStopsTheLogin(t *testing.T) {
	f := newTOTPFixtureWith(t, func(*sqlite.Store) mandates.EventSink { return failingSink{} })
	if _, err := f.auth.Authenticate(t.Context(), f.person.Email, "bon-mot-de-passe", "192.0.2.1"); err == nil {
		t.Error("a login whose event could not be written succeeded")
	}
}
