package storagetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
)

// NoticeChoiceStore is what RunNoticeChoices needs.
type NoticeChoiceStore interface {
	prefs.Store
	mandates.PersonStore
}

// RunNoticeChoices runs the suite of how people receive their notices
// (notices/prefs). newStore returns a fresh, empty, migrated store.
func RunNoticeChoices(t *testing.T, newStore func(t *testing.T) NoticeChoiceStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s NoticeChoiceStore)
	}{
		{"a person who never chose has no choice stored; the first one is written and read back as written", testChoiceRoundTrip},
		{"a choice changes version by version, and a refused change leaves it as it was", testChoiceRefused},
		{"a choice for an unknown person is refused", testChoiceUnknownPerson},
		{"a choice written in a transaction that fails is not kept", testChoiceInTx},
		{"concurrent changes never lose one", testChoiceConcurrent},
		{"codes requested at the same time are never sent beyond the hour's limit", testChoiceRequestsAtOnce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func choicePerson(t *testing.T, s NoticeChoiceStore) string {
	t.Helper()
	p := newPerson("")
	if err := s.CreatePerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

var choiceT0 = time.Date(2027, 3, 3, 9, 0, 0, 123_000_000, time.UTC)

func testChoiceRoundTrip(t *testing.T, s NoticeChoiceStore) {
	ctx := t.Context()
	id := choicePerson(t, s)
	if _, err := s.NoticeChoice(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
		t.Fatalf("NoticeChoice before any choice = %v, want ErrNotFound", err)
	}
	hash := bytes.Repeat([]byte{0xa5, 0x00, 0x7f}, 16)
	by, under, org := mandates.NewID(choiceT0), mandates.NewID(choiceT0), mandates.NewID(choiceT0)
	got, err := s.UpdateNoticeChoice(ctx, id, func(c *prefs.Choice) error {
		if c.Channel != notices.Paper || c.Version != 0 || c.PersonID != id {
			t.Errorf("the first choice starts from %+v, want paper", c)
		}
		c.Channel, c.Email, c.PaperUntil = notices.Email, "jeanne@example.fr", time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
		c.Pending = prefs.Pending{Channel: notices.SMS, To: "+33612345678", CodeHash: hash, ExpiresAt: choiceT0.Add(15 * time.Minute), Attempts: 2}
		c.Sends, c.SendsFrom = 3, choiceT0
		c.ChosenBy, c.ChosenUnder, c.ChosenOrganisation, c.ConfirmedAt = by, under, org, choiceT0.Add(-time.Minute)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 {
		t.Errorf("version %d, want 1", got.Version)
	}
	read, err := s.NoticeChoice(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if read.PersonID != id || read.Channel != notices.Email || read.Email != "jeanne@example.fr" || read.Phone != "" ||
		!read.PaperUntil.Equal(got.PaperUntil) || read.Pending.Channel != notices.SMS || read.Pending.To != "+33612345678" ||
		!bytes.Equal(read.Pending.CodeHash, hash) || !read.Pending.ExpiresAt.Equal(choiceT0.Add(15*time.Minute)) ||
		read.Pending.Attempts != 2 || read.Sends != 3 || !read.SendsFrom.Equal(choiceT0) || !read.UpdatedAt.Equal(got.UpdatedAt) ||
		read.Version != 1 || read.PaperUntil.Location() != time.UTC || read.ChosenBy != by || read.ChosenUnder != under ||
		read.ChosenOrganisation != org || !read.ConfirmedAt.Equal(choiceT0.Add(-time.Minute)) || read.ConfirmedAt.Location() != time.UTC {
		t.Errorf("read back:\n%+v\nwritten:\n%+v", read, got)
	}
	// The change waiting is dropped: its hash and times are gone.
	if _, err := s.UpdateNoticeChoice(ctx, id, func(c *prefs.Choice) error {
		c.Pending, c.PaperUntil = prefs.Pending{}, time.Time{}
		c.ChosenUnder, c.ChosenOrganisation, c.ConfirmedAt = "", "", time.Time{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	read, err = s.NoticeChoice(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if read.Pending.Waiting() || len(read.Pending.CodeHash) != 0 || !read.Pending.ExpiresAt.IsZero() || !read.PaperUntil.IsZero() || read.Version != 2 ||
		read.ChosenBy != by || read.ChosenUnder != "" || read.ChosenOrganisation != "" || !read.ConfirmedAt.IsZero() {
		t.Errorf("after dropping the change: %+v", read)
	}
}

func testChoiceRefused(t *testing.T, s NoticeChoiceStore) {
	ctx := t.Context()
	id := choicePerson(t, s)
	if _, err := s.UpdateNoticeChoice(ctx, id, func(c *prefs.Choice) error { c.Channel, c.Phone = notices.SMS, "+33612345678"; return nil }); err != nil {
		t.Fatal(err)
	}
	errNo := errors.New("changed my mind")
	refusals := []struct {
		name string
		fn   func(*prefs.Choice) error
		is   func(error) bool
	}{
		{"fn fails", func(c *prefs.Choice) error { c.Channel = notices.Paper; return errNo }, func(err error) bool { return errors.Is(err, errNo) }},
		{"email without an address", func(c *prefs.Choice) error { c.Channel = notices.Email; return nil },
			func(err error) bool { return errors.Is(err, mandates.ErrInvalid) }},
		{"an unknown channel", func(c *prefs.Choice) error { c.Channel = "pigeon"; return nil },
			func(err error) bool { return errors.Is(err, mandates.ErrInvalid) }},
		{"a change waiting without its code", func(c *prefs.Choice) error {
			c.Pending = prefs.Pending{Channel: notices.Email, To: "jeanne@example.fr", ExpiresAt: choiceT0}
			return nil
		}, func(err error) bool { return errors.Is(err, mandates.ErrInvalid) }},
		{"another person's", func(c *prefs.Choice) error { c.PersonID = mandates.NewID(choiceT0); return nil },
			func(err error) bool { return errors.Is(err, mandates.ErrInvalid) }},
	}
	for _, r := range refusals {
		if _, err := s.UpdateNoticeChoice(ctx, id, r.fn); !r.is(err) {
			t.Errorf("%s: %v", r.name, err)
		}
	}
	read, err := s.NoticeChoice(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if read.Channel != notices.SMS || read.Phone != "+33612345678" || read.Version != 1 {
		t.Errorf("after the refusals: %+v", read)
	}
}

func testChoiceUnknownPerson(t *testing.T, s NoticeChoiceStore) {
	for _, id := range []string{mandates.NewID(choiceT0), "not-an-id"} {
		_, err := s.UpdateNoticeChoice(t.Context(), id, func(c *prefs.Choice) error { return nil })
		if !errors.Is(err, mandates.ErrNotFound) && !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("a choice for %q: %v, want ErrNotFound or ErrInvalid", id, err)
		}
		if _, err := s.NoticeChoice(t.Context(), id); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("NoticeChoice(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func testChoiceInTx(t *testing.T, s NoticeChoiceStore) {
	ctx := t.Context()
	id := choicePerson(t, s)
	errAfter := errors.New("the journal entry could not be written")
	err := s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.UpdateNoticeChoice(ctx, id, func(c *prefs.Choice) error { c.Channel, c.Phone = notices.SMS, "+33612345678"; return nil }); err != nil {
			return err
		}
		return errAfter
	})
	if !errors.Is(err, errAfter) {
		t.Fatalf("InTx = %v", err)
	}
	if _, err := s.NoticeChoice(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("after a failed transaction: %v, want ErrNotFound", err)
	}
}

func testChoiceConcurrent(t *testing.T, s NoticeChoiceStore) {
	ctx := t.Context()
	id := choicePerson(t, s)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range n {
		wg.Go(func() {
			_, err := s.UpdateNoticeChoice(ctx, id, func(c *prefs.Choice) error { c.Sends++; return nil })
			switch {
			case err == nil:
				mu.Lock()
				done++
				mu.Unlock()
			case errors.Is(err, mandates.ErrConflict), errors.Is(err, mandates.ErrUnavailable):
			default:
				t.Errorf("UpdateNoticeChoice: %v", err)
			}
		})
	}
	wg.Wait()
	read, err := s.NoticeChoice(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if done == 0 || read.Sends != done || read.Version != int64(done) {
		t.Errorf("%d changes done, stored sends %d version %d", done, read.Sends, read.Version)
	}
}

// selfRule lets each person choose for themselves only.
type selfRule struct{}

func (selfRule) NoticesManagedBy(_ context.Context, a mandates.Actor, personID string) (mandates.NoticesManager, error) {
	if a.PersonID != personID {
		return mandates.NoticesManager{}, mandates.ErrNotPermitted
	}
	return mandates.NoticesManager{}, nil
}

type noEvents struct{}

func (noEvents) Emit(context.Context, mandates.Event) error { return nil }

// heldSender holds every code until each request called it or returned.
type heldSender struct {
	all   sync.WaitGroup
	mu    sync.Mutex
	sends int
}

type calledKey struct{}

func (h *heldSender) Send(ctx context.Context, _ notices.Message) error {
	*ctx.Value(calledKey{}).(*bool) = true
	h.mu.Lock()
	h.sends++
	h.mu.Unlock()
	h.all.Done()
	h.all.Wait()
	return nil
}

func testChoiceRequestsAtOnce(t *testing.T, s NoticeChoiceStore) {
	id := choicePerson(t, s)
	const n = 20
	h := &heldSender{}
	h.all.Add(n)
	svc := &prefs.Service{Store: s, Rule: selfRule{}, Events: noEvents{}, Senders: map[notices.Channel]notices.Sender{notices.Email: h}}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			called := new(bool)
			err := svc.Request(context.WithValue(t.Context(), calledKey{}, called), mandates.Actor{PersonID: id}, id, notices.Email, "jeanne@example.fr", "fr")
			if !*called {
				h.all.Done()
			}
			switch {
			case err == nil, errors.Is(err, mandates.ErrTooManyCodes), errors.Is(err, mandates.ErrConflict), errors.Is(err, mandates.ErrUnavailable):
			default:
				t.Errorf("Request = %v", err)
			}
		})
	}
	wg.Wait()
	read, err := s.NoticeChoice(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if h.sends == 0 || h.sends > 5 || read.Sends != h.sends {
		t.Errorf("%d codes sent, %d counted, want between 1 and 5, all counted", h.sends, read.Sends)
	}
}
