package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/storage/sqlite"
)

// TestServeSendsNoticesByTheChannelChosen: the sink serve builds reads
// the choices of « Comment je reçois mes courriers »: the tutor who
// confirmed email gets the notice by email, the person without a choice
// on paper; and serve's letters service without senders offers paper only.
func TestServeSendsNoticesByTheChannelChosen(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "relais.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := migrateUp(ctx, st); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	sink := noticeSink(st, journal.New(st, journal.Options{}))
	svc := mandates.NewService(st, sink, mandates.ServiceConfig{})
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
	if _, err := st.UpdateNoticeChoice(ctx, marie, func(c *prefs.Choice) error {
		c.Channel, c.Email = notices.Email, "marie@example.fr"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RegisterMeasure(ctx, mandates.Actor{PersonID: operator}, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: marie, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(0, 0, -1), ValidUntil: now.AddDate(1, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, 0, -10), Reference: "RG 25/00001"}}); err != nil {
		t.Fatal(err)
	}
	all, err := st.NoticesOf(ctx, jeanne, 10)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]notices.Channel{}
	for _, n := range all {
		by[n.RecipientID] = n.Channel
	}
	if len(all) != 2 || by[jeanne] != notices.Paper || by[marie] != notices.Email {
		t.Fatalf("channels %v, want paper for Jeanne and email for Marie", by)
	}
	letters := noticeLetters(st, svc, sink, nil)
	if letters.Offers(notices.Email) || letters.Offers(notices.SMS) {
		t.Error("without senders, email or SMS is offered")
	}
}
