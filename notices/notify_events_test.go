package notices_test

import (
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// TestNotifierKeepsWhatTheNewKindsNeed: an end coming keeps its date; a
// first act at a site keeps the site, its name and who acted; a second
// factor set up is told to the person alone, with no representation.
func TestNotifierKeepsWhatTheNewKindsNeed(t *testing.T) {
	st, n, r := notifierWorld()
	events := []mandates.Event{
		{Type: mandates.EventEndingSoon, At: t0, PersonID: jeanne, RepresentationID: r.ID, Detail: map[string]string{"ends_on": "2027-04-02"}},
		{Type: mandates.EventSiteFirstAct, At: t0, ActorID: paul, PersonID: jeanne, RepresentationID: r.ID, ClientID: "caf",
			Detail: map[string]string{"client_id": "caf", "site_name": "Caisse d’allocations familiales"}},
		{Type: mandates.EventSecondFactorEnrolled, At: t0, ActorID: jeanne, PersonID: jeanne},
	}
	for _, e := range events {
		if err := n.Emit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	all := st.all()
	if len(all) != 4 {
		t.Fatalf("%d notices %+v, want the end to Jeanne and Paul, the first act and the second factor to Jeanne", len(all), all)
	}
	for i, want := range []struct {
		kind mandates.EventType
		to   string
		data map[string]string
	}{
		{mandates.EventEndingSoon, jeanne, map[string]string{"ends_on": "2027-04-02", "representation_id": r.ID}},
		{mandates.EventEndingSoon, paul, map[string]string{"ends_on": "2027-04-02", "recipient_role": string(notices.RoleRepresentative)}},
		{mandates.EventSiteFirstAct, jeanne, map[string]string{"client_id": "caf", "site_name": "Caisse d’allocations familiales", "actor_id": paul}},
		{mandates.EventSecondFactorEnrolled, jeanne, map[string]string{"recipient_role": string(notices.RolePerson), "actor_id": jeanne}},
	} {
		got := all[i]
		if got.Kind != want.kind || got.RecipientID != want.to || got.Channel != notices.Paper {
			t.Errorf("notice %d: %+v", i, got)
		}
		for k, v := range want.data {
			if got.Data[k] != v {
				t.Errorf("notice %d (%s): %s = %q, want %q", i, got.Kind, k, got.Data[k], v)
			}
		}
	}
	if _, ok := all[3].Data["representation_id"]; ok {
		t.Errorf("the second factor's notice names a representation: %v", all[3].Data)
	}
}
