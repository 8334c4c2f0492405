package authn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/sqlite"
)

// refusingOutbox is the store with an outbox that refuses every notice.
type refusingOutbox struct{ *sqlite.Store }

var errOutbox = errors.New("the outbox refuses")

func (refusingOutbox) CreateNotice(context.Context, notices.Notice) error { return errOutbox }

func secondFactorEntries(t *testing.T, st *sqlite.Store, personID string, typ mandates.EventType) int {
	t.Helper()
	n := 0
	if err := st.JournalEntries(t.Context(), personID, func(s journal.Stored) error {
		if s.Type == typ {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSettingUpASecondFactorWritesALetter: with the notices wired as
// relais serve wires them, setting up a second factor writes a letter to
// the person, and removing it another; an outbox that refuses the letter
// undoes the setup and its journal entry: the two are one transaction.
func TestSettingUpASecondFactorWritesALetter(t *testing.T) {
	ctx := t.Context()
	f := newTOTPFixtureWith(t, func(st *sqlite.Store) mandates.EventSink {
		return &notices.Notifier{Sink: journal.New(st, journal.Options{}), Store: st, Reader: st}
	})
	f.enrol(t)
	if err := f.totp.Disable(ctx, f.person.ID); err != nil {
		t.Fatal(err)
	}
	letters, err := f.st.ToPrint(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The two letters may be written in the same millisecond, when their
	// order to print is their ids', which then is not theirs: compare
	// them by kind.
	kinds := map[mandates.EventType]int{}
	for i, n := range letters {
		kinds[n.Kind]++
		if n.PersonID != f.person.ID || n.RecipientID != f.person.ID || n.RecipientKind != notices.ToPerson ||
			n.Channel != notices.Paper || n.Data["recipient_role"] != string(notices.RolePerson) {
			t.Errorf("letter %d: %+v", i, n)
		}
	}
	if len(letters) != 2 || kinds[mandates.EventSecondFactorEnrolled] != 1 || kinds[mandates.EventSecondFactorDisabled] != 1 {
		t.Fatalf("%d letters %+v, want one for the setup and one for the removal", len(letters), letters)
	}

	refused := newTOTPFixtureWith(t, func(st *sqlite.Store) mandates.EventSink {
		return &notices.Notifier{Sink: journal.New(st, journal.Options{}), Store: refusingOutbox{st}, Reader: st}
	})
	refused.begin(t)
	if _, err := refused.totp.Confirm(ctx, refused.person.ID, refused.code(t, 0)); !errors.Is(err, errOutbox) {
		t.Fatalf("Confirm with the outbox refusing: %v", err)
	}
	if active, err := refused.totp.Active(ctx, refused.person.ID); err != nil || active {
		t.Errorf("the setup stayed without its letter: active %v, %v", active, err)
	}
	if n := secondFactorEntries(t, refused.st, refused.person.ID, mandates.EventSecondFactorEnrolled); n != 0 {
		t.Errorf("%d setup entries in the journal without the letter", n)
	}
	if n := secondFactorEntries(t, f.st, f.person.ID, mandates.EventSecondFactorEnrolled); n != 1 {
		t.Errorf("%d setup entries in the journal with the letter, want 1", n)
	}
}
