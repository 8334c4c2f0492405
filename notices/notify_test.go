package notices_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// emailFor is a Channels where one recipient chose email.
type emailFor string

func (e emailFor) Channel(_ context.Context, a notices.Addressee) (notices.Channel, error) {
	if a.ID == string(e) {
		return notices.Email, nil
	}
	return notices.Paper, nil
}

func notifierWorld() (*memStore, *notices.Notifier, mandates.Representation) {
	st := newMemStore()
	st.persons[jeanne] = mandates.Person{ID: jeanne, Language: "en"}
	st.persons[paul] = mandates.Person{ID: paul}
	r := mandates.Representation{ID: mandates.NewID(t0), Kind: mandates.Tutelle, PersonID: jeanne,
		Representative: mandates.Representative{PersonID: paul}, Status: mandates.StatusSuspended}
	st.reps[r.ID] = r
	return st, &notices.Notifier{Sink: st, Store: st, Reader: st, Now: func() time.Time { return t0 }}, r
}

func TestNotifierWritesNoticesWithTheEvent(t *testing.T) {
	st, n, r := notifierWorld()
	e := mandates.Event{Type: mandates.EventSuspended, At: t0, ActorID: operator, PersonID: jeanne, RepresentationID: r.ID,
		Detail: map[string]string{"reason": "a free text the notice must not keep"}}
	if err := n.Emit(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	if len(st.events) != 1 || st.events[0].Type != mandates.EventSuspended {
		t.Fatalf("journal: %+v", st.events)
	}
	all := st.all()
	if len(all) != 2 {
		t.Fatalf("%d notices, want Jeanne's and Paul's", len(all))
	}
	want := []struct {
		to   string
		lang string
		role notices.Role
	}{{jeanne, "en", notices.RolePerson}, {paul, "fr", notices.RoleRepresentative}}
	for i, w := range want {
		got := all[i]
		if got.RecipientID != w.to || got.PersonID != jeanne || got.Lang != w.lang || got.Channel != notices.Paper ||
			got.Kind != mandates.EventSuspended || got.Status != notices.Pending || !got.CreatedAt.Equal(t0) {
			t.Errorf("notice %d: %+v", i, got)
		}
		if got.Data["recipient_role"] != string(w.role) || got.Data["representation_id"] != r.ID ||
			got.Data["representation_kind"] != string(mandates.Tutelle) || got.Data["actor_id"] != operator {
			t.Errorf("notice %d data: %v", i, got.Data)
		}
		if _, ok := got.Data["reason"]; ok {
			t.Errorf("notice %d keeps a free text: %v", i, got.Data)
		}
	}
}

func TestNotifierUsesTheChannelsChosen(t *testing.T) {
	st, n, r := notifierWorld()
	n.Channels = emailFor(jeanne)
	if err := n.Emit(t.Context(), mandates.Event{Type: mandates.EventResumed, At: t0, PersonID: jeanne, RepresentationID: r.ID}); err != nil {
		t.Fatal(err)
	}
	all := st.all()
	if len(all) != 2 || all[0].Channel != notices.Email || all[1].Channel != notices.Paper {
		t.Fatalf("channels: %+v", all)
	}
}

// TestNotifierSendsANewChannelsConfirmationOnPaper: the letter saying
// that email now counts goes on paper, though Jeanne chose email, so
// someone who took over her account cannot divert her letters unseen; the
// channel and the date are kept for its words.
func TestNotifierSendsANewChannelsConfirmationOnPaper(t *testing.T) {
	st, n, r := notifierWorld()
	n.Channels = emailFor(jeanne)
	e := mandates.Event{Type: mandates.EventNoticeChannelConfirmed, At: t0, ActorID: paul, PersonID: jeanne, RepresentationID: r.ID,
		Detail: map[string]string{"channel": "email"}}
	if err := n.Emit(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	all := st.all()
	if len(all) != 1 || all[0].RecipientID != jeanne || all[0].Channel != notices.Paper || all[0].Data["channel"] != "email" {
		t.Fatalf("notices: %+v, want one letter to Jeanne", all)
	}
	// The same Channels still sends her other notices by email.
	if err := n.Emit(t.Context(), mandates.Event{Type: mandates.EventResumed, At: t0, ActorID: operator, PersonID: jeanne, RepresentationID: r.ID}); err != nil {
		t.Fatal(err)
	}
	if all = st.all(); len(all) != 3 || all[1].Channel != notices.Email {
		t.Fatalf("after a resume: %+v", all)
	}
}

func TestNotifierFailsWithTheAct(t *testing.T) {
	tests := []struct {
		name  string
		setup func(st *memStore, n *notices.Notifier)
		want  error
	}{
		{"a notice that cannot be written undoes the journal entry", func(st *memStore, _ *notices.Notifier) { st.failCreate = errBoom }, errBoom},
		{"a recipient who cannot be read undoes it too", func(st *memStore, _ *notices.Notifier) { delete(st.persons, paul) }, mandates.ErrNotFound},
		{"so does a lookup of channels that fails", func(_ *memStore, n *notices.Notifier) { n.Channels = failing{} }, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, n, r := notifierWorld()
			tt.setup(st, n)
			err := st.InTx(t.Context(), func(ctx context.Context) error {
				return n.Emit(ctx, mandates.Event{Type: mandates.EventRevoked, At: t0, PersonID: jeanne, RepresentationID: r.ID})
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Emit = %v, want %v", err, tt.want)
			}
			if len(st.events) != 0 || len(st.order) != 0 {
				t.Errorf("kept %d events and %d notices of a failed act", len(st.events), len(st.order))
			}
		})
	}
}

type failing struct{}

func (failing) Channel(context.Context, notices.Addressee) (notices.Channel, error) {
	return "", errBoom
}

func TestNotifierPassesOtherEvents(t *testing.T) {
	st, n, _ := notifierWorld()
	if err := n.Emit(t.Context(), mandates.Event{Type: mandates.EventLoginSucceeded, At: t0, ActorID: jeanne, PersonID: jeanne}); err != nil {
		t.Fatal(err)
	}
	if len(st.events) != 1 || len(st.order) != 0 {
		t.Errorf("a login: %d events, %d notices; want the entry and no notice", len(st.events), len(st.order))
	}
}
