package main

import (
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
)

// TestServeSendsNoticesByTheChannelChosen: the sink serve builds reads
// the choices of « Comment je reçois mes courriers »: the tutor who
// confirmed email gets the notice by email, the person without a choice
// on paper; and serve's letters service without senders offers paper only.
func TestServeSendsNoticesByTheChannelChosen(t *testing.T) {
	ctx := t.Context()
	st := migratedSQLite(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	sink := noticeSink(st, journal.New(st, journal.Options{}), noticeLookup(st, nil))
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
	letters := noticeLetters(st, svc, sink, nil, nil)
	if letters.Offers(notices.Email) || letters.Offers(notices.SMS) {
		t.Error("without senders, email or SMS is offered")
	}
}

// TestServesLookupEndsATutorsChoiceWithTheMeasure: serve's lookup asks
// the rule at each notice: the email a tutor chose for the person counts
// while the tutelle is in force, and once it ended the person's notices
// go on paper and the tutor's address is no longer given.
func TestServesLookupEndsATutorsChoiceWithTheMeasure(t *testing.T) {
	ctx := t.Context()
	st := migratedSQLite(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	look := noticeLookup(st, nil)
	svc := mandates.NewService(st, noticeSink(st, journal.New(st, journal.Options{}), look), mandates.ServiceConfig{})
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
	op := mandates.Actor{PersonID: operator}
	reps, err := svc.RegisterMeasure(ctx, op, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: marie, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(0, 0, -1), ValidUntil: now.AddDate(1, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, 0, -10), Reference: "RG 25/00001"}})
	if err != nil || len(reps) != 1 {
		t.Fatalf("RegisterMeasure = %v, %v", reps, err)
	}
	if _, err := st.UpdateNoticeChoice(ctx, jeanne, func(c *prefs.Choice) error {
		c.Channel, c.Email, c.ChosenBy, c.ChosenUnder = notices.Email, "marie@example.fr", marie, reps[0].ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	to := notices.Addressee{ID: jeanne, Kind: notices.ToPerson}
	if c, err := look.Channel(ctx, to); err != nil || c != notices.Email {
		t.Fatalf("while the tutelle is in force: %s, %v, want email", c, err)
	}
	if _, err := svc.End(ctx, op, reps[0].ID, reps[0].Version, "Jugement de mainlevée"); err != nil {
		t.Fatal(err)
	}
	if c, err := look.Channel(ctx, to); err != nil || c != notices.Paper {
		t.Errorf("once the tutelle ended: %s, %v, want paper", c, err)
	}
	if ct, err := look.Contact(ctx, jeanne); err != nil || ct != (notices.Contact{}) {
		t.Errorf("contact once the tutelle ended: %+v, %v, want none", ct, err)
	}
}

// TestNoticeDaysAreCountedInParis: the zone serve counts the days of
// paper in is Paris's, winter and summer.
func TestNoticeDaysAreCountedInParis(t *testing.T) {
	days, err := noticeDays()
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []struct {
		t    time.Time
		want int
	}{{time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC), 3600}, {time.Date(2027, 7, 15, 12, 0, 0, 0, time.UTC), 7200}} {
		if _, off := at.t.In(days).Zone(); off != at.want || days.String() != "Europe/Paris" {
			t.Errorf("%s at %v: offset %d, want %d", days, at.t, off, at.want)
		}
	}
}
