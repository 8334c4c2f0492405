package ui_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// TestEvaluationsAreJournaled: each answer a site gets from the access
// evaluation API is in the person's journal (issue 7, point 1): who would
// act, through which representation and organisation, for which site,
// area and action, and the answer; an agreement used says which. A
// question Relais cannot answer writes nothing.
func TestEvaluationsAreJournaled(t *testing.T) {
	w := newAccessWorld(t)
	type want struct {
		actor, rep, org, area, action, decision, cosign string
	}
	check := func(t *testing.T, person mandates.Person, before int, wants ...want) {
		t.Helper()
		got := ofType(chainOf(t, w.app, person.ID), mandates.EventAccessEvaluated)
		if len(got) != before+len(wants) {
			t.Fatalf("%s's journal holds %d evaluations, want %d", person.GivenNames, len(got), before+len(wants))
		}
		for i, x := range wants {
			e := got[before+i]
			d := map[string]string{}
			if e.Detail != nil {
				d = e.Detail.Fields
			}
			if e.PersonID != person.ID || e.ActorID != x.actor || e.RepresentationID != x.rep || e.OrganisationID != x.org ||
				e.ClientID != "caf" || !slices.Equal(e.Areas, []mandates.Area{mandates.Area(x.area)}) ||
				d["action"] != x.action || d["decision"] != x.decision || d["cosignature_id"] != x.cosign {
				t.Errorf("entry %d: %+v %v, want %+v", before+i, e.Entry, d, x)
			}
		}
	}
	evaluate := func(t *testing.T, actor, person mandates.Person, action, area string, want bool) {
		t.Helper()
		code, m := w.evaluate(t, w.question(actor, person, action, area))
		if d, _ := answerOf(m); code != http.StatusOK || d != want {
			t.Fatalf("%s for %s, %s %s: %d %v", actor.GivenNames, person.GivenNames, action, area, code, m)
		}
	}

	t.Run("a tutor, a delegate of a service, someone without a representation", func(t *testing.T) {
		evaluate(t, w.marie, w.jeanne, "manage", "social", true)
		evaluate(t, w.lucie, w.paul, "consult", "argent", true)
		evaluate(t, w.karim, w.jeanne, "consult", "social", false)
		check(t, w.jeanne, 0,
			want{actor: w.marie.ID, rep: w.tutelle, area: "social", action: "manage", decision: "allowed"},
			want{actor: w.karim.ID, area: "social", action: "consult", decision: "refused"})
		check(t, w.paul, 0, want{actor: w.lucie.ID, rep: w.curatelle, org: w.mjpm, area: "argent", action: "consult", decision: "allowed"})
	})

	t.Run("a question about nobody Relais knows writes nothing", func(t *testing.T) {
		before := 0
		if err := w.app.store.JournalEntries(t.Context(), "", func(journal.Stored) error { before++; return nil }); err != nil {
			t.Fatal(err)
		}
		q := w.question(w.marie, w.jeanne, "manage", "social")
		q["resource"].(map[string]any)["id"] = "not-a-sub"
		if code, m := w.evaluate(t, q); code != http.StatusBadRequest {
			t.Fatalf("unknown sub: %d %v", code, m)
		}
		after := 0
		if err := w.app.store.JournalEntries(t.Context(), "", func(journal.Stored) error { after++; return nil }); err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Errorf("%d entries written for a refused question", after-before)
		}
	})

	t.Run("an agreement used once, then asked for again", func(t *testing.T) {
		before := len(ofType(chainOf(t, w.app, w.paul.ID), mandates.EventAccessEvaluated))
		id := w.openCosign(t)
		if code := w.approveByPage(t, w.lucie, id, "accept"); code != http.StatusSeeOther {
			t.Fatalf("approve: %d", code)
		}
		if d, _ := w.evaluateWith(t, id); !d {
			t.Fatal("the approved act was refused")
		}
		if d, _ := w.evaluateWith(t, id); d {
			t.Fatal("the agreement served twice")
		}
		// Paul acts for himself: his curatelle is the measure the answer
		// rests on, and no organisation acted.
		check(t, w.paul, before,
			want{actor: w.paul.ID, rep: w.curatelle, area: "argent", action: "dispose", decision: "allowed", cosign: id},
			want{actor: w.paul.ID, rep: w.curatelle, area: "argent", action: "dispose", decision: "cosign", cosign: id})
		used := ofType(chainOf(t, w.app, w.paul.ID), mandates.EventCosignUsed)
		if len(used) != 1 || used[0].ClientID != "caf" {
			t.Errorf("cosignature.used entries: %+v, want one, for the site that asked", used)
		}
	})
}
