package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
)

// TestJournalJobsAnnounceEndings: the journal's background work, with the
// service serve builds (its events through the notices), announces a
// tutelle's end once when it is 30 days away, with a letter to the person
// and one to the tutor, and says so in the log; the next rounds announce
// nothing more. The clock is the test's.
func TestJournalJobsAnnounceEndings(t *testing.T) {
	ctx := t.Context()
	st := migratedSQLite(t)
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	j := journal.New(st, journal.Options{Now: clock})
	svc := mandates.NewService(st, noticeSink(st, j, noticeLookup(st, nil)), mandates.ServiceConfig{Now: clock})
	person := func(given string) string {
		p := mandates.Person{ID: mandates.NewID(now), GivenNames: given, FamilyName: "Lefèvre", BirthDate: mandates.Date(1948, time.March, 12)}
		if err := st.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	operator, jeanne, marie := person("Olivier"), person("Jeanne"), person("Marie")
	if err := st.GrantRole(ctx, operator, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	end := now.AddDate(0, 0, 31)
	if _, err := svc.RegisterMeasure(ctx, mandates.Actor{PersonID: operator}, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: marie, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(-1, 0, 0), ValidUntil: end,
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(-1, 0, -10), Reference: "RG 25/00001"}}); err != nil {
		t.Fatal(err)
	}
	box, _ := keyring.NewSecretBox(bytes.Repeat([]byte{'k'}, 32))
	keys := keyring.NewJournalKeys(st, box, time.Now)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	jobs := &journalJobs{store: st, journal: j, signer: keys, holder: "a", interval: time.Hour, expiries: svc, now: clock,
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	endings := func() []notices.Notice {
		letters, err := st.ToPrint(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []notices.Notice
		for _, n := range letters {
			if n.Kind == mandates.EventEndingSoon {
				out = append(out, n)
			}
		}
		return out
	}
	const said = "representation endings announced"

	if ran, err := jobs.once(ctx); !ran || err != nil || len(endings()) != 0 || strings.Contains(logs.String(), said) {
		t.Fatalf("31 days before the end: ran %v, %v, %d letters; log %s", ran, err, len(endings()), logs.String())
	}
	now = end.Add(-mandates.EndingSoonWithin) // and the lease has expired
	if ran, err := jobs.once(ctx); !ran || err != nil {
		t.Fatalf("30 days before the end: ran %v, %v", ran, err)
	}
	got := endings()
	to := map[string]bool{}
	for _, n := range got {
		to[n.RecipientID] = true
		if n.PersonID != jeanne || n.Data["ends_on"] != mandates.EndsOn(end) {
			t.Errorf("letter %+v", n)
		}
	}
	if len(got) != 2 || !to[jeanne] || !to[marie] {
		t.Fatalf("%d letters to %v, want one to Jeanne and one to her tutor", len(got), to)
	}
	if !strings.Contains(logs.String(), "level=INFO msg=\""+said+"\" representations=1") {
		t.Errorf("log %s, want the count at Info", logs.String())
	}
	logs.Reset()
	now = now.Add(time.Hour)
	if ran, err := jobs.once(ctx); !ran || err != nil || len(endings()) != 2 || strings.Contains(logs.String(), said) {
		t.Errorf("next round: ran %v, %v, %d letters; log %s", ran, err, len(endings()), logs.String())
	}
}
