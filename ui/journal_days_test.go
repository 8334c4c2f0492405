package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// daysView is Jeanne reading her journal, with names and sites known, so
// that grouping needs no store.
func daysView(t *testing.T) *journalView {
	t.Helper()
	b, err := newBundle()
	if err != nil {
		t.Fatal(err)
	}
	return &journalView{lang: "fr", loc: i18n.NewLocalizer(b, "fr"), viewer: "jeanne", owner: "jeanne",
		names: map[string]string{"jeanne": "Jeanne Petit", "marie": "Marie Martin"},
		sites: map[string]string{"caf": "CAF", "impots": "Impôts"}, reps: map[string]*mandates.Representation{}}
}

// stored is an entry of Jeanne's chain at the given time.
func stored(typ mandates.EventType, actor, client string, at time.Time, fields map[string]string) journal.Stored {
	return journal.Stored{Entry: journal.Entry{Type: typ, At: at, ActorID: actor, PersonID: "jeanne", ClientID: client},
		Detail: &journal.Detail{Fields: fields}}
}

func TestTheJournalShowsActsFirstWithTheirChecksFolded(t *testing.T) {
	day1 := time.Date(2027, 3, 3, 13, 0, 0, 0, time.UTC)
	day0 := day1.AddDate(0, 0, -1)
	check := func(actor, client, action string, at time.Time) journal.Stored {
		return stored(mandates.EventAccessEvaluated, actor, client, at, map[string]string{"action": action, "decision": "allowed"})
	}
	act := stored(mandates.EventActReported, "marie", "caf", day1, map[string]string{"action": "dispose", "label": "Remboursement demandé", "reference": "R-1"})
	es := []journal.Stored{ // newest first, as a page comes
		check("marie", "caf", "consult", day1.Add(2*time.Minute)), // after the act: a check of its own
		act,
		check("marie", "caf", "dispose", day1.Add(-time.Minute)),      // folded under the act
		check("marie", "impots", "dispose", day1.Add(-2*time.Minute)), // another site
		check("marie", "caf", "dispose", day1.Add(-3*time.Minute)),    // folded under the act
		check("marie", "caf", "dispose", day1.Add(-2*actWindow)),      // too long before
		stored(mandates.EventLoginSucceeded, "jeanne", "", day0, nil), // the day before
		check("marie", "caf", "consult", day0.Add(-time.Minute)),      // the day before, alone
	}
	days := daysView(t).days(es)
	if len(days) != 2 || days[0].Heading != "Le 3 mars 2027" || days[1].Heading != "Le 2 mars 2027" {
		t.Fatalf("days %+v, want the 3rd then the 2nd of March", days)
	}
	items := days[0].Items
	if len(items) != 3 {
		t.Fatalf("%d items on the 3rd, want 3: %+v", len(items), items)
	}
	// The checks of caf not under the act are grouped, newest first.
	if items[0].Act || len(items[0].Checks) != 2 || items[0].Summary != "Le site « CAF » a vérifié 2 fois ce que Marie Martin peut faire." {
		t.Errorf("first item %+v, want caf's two other checks grouped", items[0])
	}
	got := items[1]
	if !got.Act || len(got.Checks) != 2 || got.Summary != "Avant, le site a vérifié 2 fois que c’était permis." ||
		!strings.HasPrefix(got.Text, "Marie Martin a fait une démarche pour vous sur le site « CAF ».") ||
		!strings.Contains(got.Text, "« Remboursement demandé »") || !strings.Contains(got.Text, "Référence : R-1.") {
		t.Errorf("the act %+v, want Marie first, the site's words and its two checks folded", got)
	}
	if items[2].Act || len(items[2].Checks) != 1 || items[2].Summary != "Le site « Impôts » a vérifié 1 fois ce que Marie Martin peut faire." {
		t.Errorf("third item %+v, want the check at another site alone", items[2])
	}
	if len(days[1].Items) != 2 || days[1].Items[0].Text == "" || len(days[1].Items[1].Checks) != 1 {
		t.Errorf("the 2nd: %+v, want the login then one check", days[1].Items)
	}
	if items[0].Checks[0].Time != "14 h 02" {
		t.Errorf("a check's time %q, want 14 h 02 in Paris", items[0].Checks[0].Time)
	}
}

func TestARefusedCheckIsNeverFolded(t *testing.T) {
	day := time.Date(2027, 3, 3, 13, 0, 0, 0, time.UTC)
	check := func(decision, action string, at time.Time) journal.Stored {
		return stored(mandates.EventAccessEvaluated, "marie", "caf", at, map[string]string{"action": action, "decision": decision})
	}
	act := stored(mandates.EventActReported, "marie", "caf", day, map[string]string{"action": "dispose", "label": "Remboursement demandé"})
	es := []journal.Stored{
		check("allowed", "consult", day.Add(3*time.Minute)),
		check("refused", "consult", day.Add(2*time.Minute)), // between two allowed checks of the same site and actor
		check("allowed", "consult", day.Add(time.Minute)),
		act,
		check("refused", "dispose", day.Add(-time.Minute)), // just before the act, same action
		check("allowed", "dispose", day.Add(-2*time.Minute)),
	}
	days := daysView(t).days(es)
	if len(days) != 1 {
		t.Fatalf("%d days, want 1", len(days))
	}
	var shown, folded int
	for _, it := range days[0].Items {
		if len(it.Checks) == 0 && !it.Act {
			shown++ // a line of its own
		}
		folded += len(it.Checks)
	}
	if shown != 2 || folded != 3 {
		t.Errorf("%d checks shown on their own and %d folded, want the 2 refusals shown and the 3 allowed folded: %+v", shown, folded, days[0].Items)
	}
}

func TestACheckOfAnotherAreaIsNotFoldedUnderTheAct(t *testing.T) {
	at := time.Date(2027, 3, 3, 13, 0, 0, 0, time.UTC)
	inArea := func(e journal.Stored, a mandates.Area) journal.Stored {
		e.Areas = []mandates.Area{a}
		return e
	}
	act := inArea(stored(mandates.EventActReported, "marie", "caf", at, map[string]string{"action": "manage", "label": "Déclaration envoyée"}), "social")
	same := inArea(stored(mandates.EventAccessEvaluated, "marie", "caf", at.Add(-time.Minute), map[string]string{"action": "manage", "decision": "allowed"}), "social")
	other := inArea(stored(mandates.EventAccessEvaluated, "marie", "caf", at.Add(-2*time.Minute), map[string]string{"action": "manage", "decision": "allowed"}), "argent")
	days := daysView(t).days([]journal.Stored{act, same, other})
	if len(days) != 1 || len(days[0].Items) != 2 {
		t.Fatalf("days %+v, want one day with the act and the other area's check apart", days)
	}
	if it := days[0].Items[0]; !it.Act || len(it.Checks) != 1 {
		t.Errorf("the act %+v, want only the check of its area folded under it", it)
	}
	if it := days[0].Items[1]; it.Act || len(it.Checks) != 1 {
		t.Errorf("second item %+v, want the check of another area on its own", it)
	}
}
