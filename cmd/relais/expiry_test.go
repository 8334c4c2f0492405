package main

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// TestJournalJobsRecordExpiries: the journal's background work, under its
// lease, journals a measure's expiry once, and says so in the log.
func TestJournalJobsRecordExpiries(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "relais.db")
	if code, _, stderr := runRelais(t, noEnv, "migrate", "up", "--db", "sqlite:"+path); code != 0 {
		t.Fatalf("migrate up: %s", stderr)
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	j := journal.New(st, journal.Options{Now: clock})
	svc := mandates.NewService(st, j, mandates.ServiceConfig{Now: clock})
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
	reps, err := svc.RegisterMeasure(ctx, mandates.Actor{PersonID: operator}, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: marie, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(-1, 0, 0), ValidUntil: now.Add(time.Hour),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(-1, 0, -10), Reference: "RG 25/00001"}})
	if err != nil {
		t.Fatal(err)
	}
	box, _ := keyring.NewSecretBox(bytes.Repeat([]byte{'k'}, 32))
	keys := keyring.NewJournalKeys(st, box, time.Now)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	jobs := func(holder string) *journalJobs {
		return &journalJobs{store: st, journal: j, signer: keys, holder: holder, interval: time.Hour, expiries: svc, now: clock, log: log}
	}
	a, b := jobs("a"), jobs("b")
	expired := func() []journal.Stored {
		var out []journal.Stored
		if err := st.JournalEntries(ctx, jeanne, func(s journal.Stored) error {
			if s.Type == mandates.EventExpired {
				out = append(out, s)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const said = "representation expiries recorded"

	if ran, err := a.once(ctx); !ran || err != nil || len(expired()) != 0 || strings.Contains(logs.String(), said) {
		t.Fatalf("before the end: ran %v, %v, %d expiries; log %s", ran, err, len(expired()), logs.String())
	}
	now = now.Add(time.Hour) // the tutelle's end, and a's lease (54 minutes) has expired
	if ran, err := b.once(ctx); !ran || err != nil {
		t.Fatalf("b at the end: ran %v, %v", ran, err)
	}
	if ran, _ := a.once(ctx); ran {
		t.Error("a ran while b holds the lease")
	}
	got := expired()
	if len(got) != 1 || got[0].RepresentationID != reps[0].ID || got[0].ActorID != "" ||
		got[0].Detail.Fields["valid_until"] != reps[0].ValidUntil.Format(time.RFC3339) {
		t.Fatalf("expiries in Jeanne's journal: %+v", got)
	}
	if !strings.Contains(logs.String(), "level=INFO msg=\""+said+"\" representations=1") {
		t.Errorf("log %s, want the count at Info", logs.String())
	}
	logs.Reset()
	now = now.Add(time.Hour)
	if ran, err := b.once(ctx); !ran || err != nil || len(expired()) != 1 || strings.Contains(logs.String(), said) {
		t.Errorf("next round: ran %v, %v, %d expiries; log %s", ran, err, len(expired()), logs.String())
	}
}
