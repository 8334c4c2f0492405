package notices_test

import (
	"context"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// smsFor is a Channels where one recipient chose SMS.
type smsFor string

func (s smsFor) Channel(_ context.Context, a notices.Addressee) (notices.Channel, error) {
	if a.ID == string(s) {
		return notices.SMS, nil
	}
	return notices.Paper, nil
}

// TestNotifierSendsACourtMeasureOnPaperToo: a text message cannot say how
// to contest the judge's decision (the court, the 15 days), so Jeanne, who
// chose SMS, gets the SMS and a letter for each event of her tutelle whose
// letter says it; an event of a mandate, or a measure's event whose letter
// has nothing to contest, goes by SMS alone; an email says it all itself.
func TestNotifierSendsACourtMeasureOnPaperToo(t *testing.T) {
	tests := []struct {
		name  string
		kind  mandates.Kind
		event mandates.EventType
		want  []notices.Channel // to Jeanne
	}{
		{"a tutelle paused", mandates.Tutelle, mandates.EventSuspended, []notices.Channel{notices.SMS, notices.Paper}},
		{"a tutelle registered", mandates.Tutelle, mandates.EventCreated, []notices.Channel{notices.SMS, notices.Paper}},
		{"a tutelle changed", mandates.Tutelle, mandates.EventUpdated, []notices.Channel{notices.SMS, notices.Paper}},
		{"a tutelle ended by the judge", mandates.Tutelle, mandates.EventRevoked, []notices.Channel{notices.SMS, notices.Paper}},
		{"an area withdrawn from a curatelle", mandates.CuratelleRenforcee, mandates.EventAreaWithdrawn, []notices.Channel{notices.SMS, notices.Paper}},
		{"a tutelle come to its end", mandates.Tutelle, mandates.EventExpired, []notices.Channel{notices.SMS}},
		{"a mandate paused", mandates.AidantMandate, mandates.EventSuspended, []notices.Channel{notices.SMS}},
		{"a mandate stopped", mandates.AidantMandate, mandates.EventRevoked, []notices.Channel{notices.SMS}},
		{"a proxy given", mandates.Proxy, mandates.EventCreated, []notices.Channel{notices.SMS}},
		// An email holds the letter's lines, how to contest included.
		{"a tutelle paused, to someone who chose email", mandates.Tutelle, mandates.EventSuspended, []notices.Channel{notices.Email}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, n, r := notifierWorld()
			r.Kind = tt.kind
			st.reps[r.ID] = r
			n.Channels = smsFor(jeanne)
			if tt.want[0] == notices.Email {
				n.Channels = emailFor(jeanne)
			}
			if err := n.Emit(t.Context(), mandates.Event{Type: tt.event, At: t0, ActorID: operator, PersonID: jeanne, RepresentationID: r.ID}); err != nil {
				t.Fatal(err)
			}
			var got []notices.Channel
			toPaul := 0
			for _, x := range st.all() {
				switch x.RecipientID {
				case jeanne:
					got = append(got, x.Channel)
					if x.Kind != tt.event || x.Data["representation_kind"] != string(tt.kind) || x.Data["recipient_role"] != string(notices.RolePerson) {
						t.Errorf("notice to Jeanne: %+v", x)
					}
				case paul:
					toPaul++
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Jeanne's notices go by %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("Jeanne's notices go by %v, want %v", got, tt.want)
				}
			}
			// Paul chose paper: one letter is enough.
			if toPaul != 1 {
				t.Errorf("Paul has %d notices, want one letter", toPaul)
			}
		})
	}
}

// TestDeskResendsACourtMeasuresLetterOnPaper: the letter that came with
// an SMS about a tutelle says how to contest the judge's decision; sent
// again, it is a letter again, though Paul chose SMS. The SMS itself is
// sent again by SMS.
func TestDeskResendsACourtMeasuresLetterOnPaper(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind mandates.Kind
		was  notices.Channel
		want notices.Channel
	}{
		{"the letter of a tutelle", mandates.Tutelle, notices.Paper, notices.Paper},
		{"the SMS of a tutelle", mandates.Tutelle, notices.SMS, notices.SMS},
		{"the letter of a mandate", mandates.AidantMandate, notices.Paper, notices.SMS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, d, sent := deskWorld(t)
			sent.Channel = tc.was
			sent.Data = map[string]string{"recipient_role": "representative", "representation_kind": string(tc.kind)}
			st.byID[sent.ID] = sent
			d.Channels = smsFor(paul)
			got, err := d.Resend(t.Context(), mandates.Actor{PersonID: operator}, jeanne, sent.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c := st.byID[got.ID].Channel; c != tc.want {
				t.Errorf("resent by %s, want %s", c, tc.want)
			}
		})
	}
}
