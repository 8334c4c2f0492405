package notices_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// operatorsOnly is the rule of the tests: operator may see jeanne's
// notices, nobody else; an unknown person is ErrNotFound.
type operatorsOnly struct{}

func (operatorsOnly) NoticesAccess(_ context.Context, a mandates.Actor, personID string) error {
	switch {
	case a.PersonID != operator:
		return mandates.ErrNotPermitted
	case personID != jeanne && personID != paul:
		return mandates.ErrNotFound
	}
	return nil
}

func deskWorld(t *testing.T) (*memStore, *notices.Desk, notices.Notice) {
	t.Helper()
	st := newMemStore()
	at := t0.Add(-time.Hour)
	sent := notices.Notice{ID: mandates.NewID(at), PersonID: jeanne, RecipientID: paul, RecipientKind: notices.ToPerson,
		Kind: mandates.EventSuspended, Channel: notices.Email, Lang: "en", Data: map[string]string{"recipient_role": "representative"},
		Status: notices.Pending, NextAttemptAt: at, CreatedAt: at}
	if err := st.CreateNotice(t.Context(), sent); err != nil {
		t.Fatal(err)
	}
	n := st.byID[sent.ID]
	n.Status, n.SentAt = notices.Sent, at
	st.byID[sent.ID] = n
	return st, &notices.Desk{Store: st, Access: operatorsOnly{}, Events: st, Now: func() time.Time { return t0 }}, n
}

func TestDeskResendsANoticeOnTheRecipientsChannel(t *testing.T) {
	for _, tc := range []struct {
		name     string
		channels notices.Channels
		want     notices.Channel
	}{
		{"paper when nobody chose anything", nil, notices.Paper},
		{"email when Paul chose it", emailFor(paul), notices.Email},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, d, sent := deskWorld(t)
			d.Channels = tc.channels
			got, err := d.Resend(t.Context(), mandates.Actor{PersonID: operator}, jeanne, sent.ID)
			if err != nil {
				t.Fatal(err)
			}
			stored := st.byID[got.ID]
			if got.ID == sent.ID || stored.Status != notices.Pending || stored.Channel != tc.want || stored.RecipientID != paul ||
				stored.Kind != sent.Kind || stored.Lang != "en" || stored.Data["resent_of"] != sent.ID ||
				stored.Data["recipient_role"] != "representative" || !stored.CreatedAt.Equal(t0) {
				t.Errorf("resent notice = %+v", stored)
			}
			if sent.Data["resent_of"] != "" {
				t.Error("the original's data changed")
			}
			if len(st.events) != 1 {
				t.Fatalf("journal = %+v, want one entry", st.events)
			}
			e := st.events[0]
			if e.Type != mandates.EventNoticeResent || e.ActorID != operator || e.PersonID != jeanne ||
				e.Detail["notice"] != got.ID || e.Detail["resent_of"] != sent.ID || e.Detail["channel"] != string(tc.want) || len(e.Detail) != 3 {
				t.Errorf("journal entry = %+v", e)
			}
		})
	}
}

// TestDeskResendsANewChannelsNoticeOnPaper: the letter that tells a
// person a new email address or number now counts goes on paper, resent
// too, whatever channel they chose (notices.AlwaysPaper).
func TestDeskResendsANewChannelsNoticeOnPaper(t *testing.T) {
	st, d, sent := deskWorld(t)
	n := st.byID[sent.ID]
	n.Kind = mandates.EventNoticeChannelConfirmed
	st.byID[sent.ID] = n
	d.Channels = emailFor(paul)
	got, err := d.Resend(t.Context(), mandates.Actor{PersonID: operator}, jeanne, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.byID[got.ID].Channel; c != notices.Paper {
		t.Errorf("the resent notice of a new channel goes by %s, want paper", c)
	}
}

func TestDeskRefuses(t *testing.T) {
	st, d, sent := deskWorld(t)
	waiting := notices.Fallback(sent, t0)
	if err := st.CreateNotice(t.Context(), waiting); err != nil {
		t.Fatal(err)
	}
	op := mandates.Actor{PersonID: operator}
	for _, tc := range []struct {
		name   string
		actor  mandates.Actor
		person string
		id     string
		want   error
	}{
		{"someone who is not an operator", mandates.Actor{PersonID: paul}, jeanne, sent.ID, mandates.ErrNotPermitted},
		{"an unknown person", op, mandates.NewID(t0), sent.ID, mandates.ErrNotFound},
		{"an unknown notice", op, jeanne, mandates.NewID(t0), mandates.ErrNotFound},
		{"a notice about someone else", op, paul, sent.ID, mandates.ErrNotFound},
		{"a notice still waiting to be sent", op, jeanne, waiting.ID, notices.ErrStillPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(st.order)
			if _, err := d.Resend(t.Context(), tc.actor, tc.person, tc.id); !errors.Is(err, tc.want) {
				t.Errorf("Resend: %v, want %v", err, tc.want)
			}
			if len(st.order) != before || len(st.events) != 0 {
				t.Error("a refused resend wrote something")
			}
		})
	}
	t.Run("the list, to someone who is not an operator", func(t *testing.T) {
		if _, err := d.NoticesOf(t.Context(), mandates.Actor{PersonID: paul}, jeanne); !errors.Is(err, mandates.ErrNotPermitted) {
			t.Errorf("NoticesOf: %v", err)
		}
	})
	t.Run("the list, to an operator", func(t *testing.T) {
		got, err := d.NoticesOf(t.Context(), op, jeanne)
		if err != nil || len(got) != 2 || got[0].ID != waiting.ID {
			t.Errorf("NoticesOf = %v, %v", got, err)
		}
	})
}

func TestDeskResendIsOneTransaction(t *testing.T) {
	st, d, sent := deskWorld(t)
	d.Events = failingSink{}
	if _, err := d.Resend(t.Context(), mandates.Actor{PersonID: operator}, jeanne, sent.ID); !errors.Is(err, errBoom) {
		t.Fatalf("Resend: %v", err)
	}
	if len(st.order) != 1 {
		t.Error("the notice stayed although its journal entry failed")
	}
}

type failingSink struct{}

func (failingSink) Emit(context.Context, mandates.Event) error { return errBoom }
