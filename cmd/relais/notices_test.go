package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
)

// TestServeWritesNoticesWithTheActs: the service serve builds writes the
// letters an act causes with the act (a tutelle registered: one to the
// person, one to the tutor), and its dispatcher, without any email or
// SMS sender, claims no notice.
func TestServeWritesNoticesWithTheActs(t *testing.T) {
	ctx := t.Context()
	st := migratedSQLite(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	j := journal.New(st, journal.Options{})
	svc := mandates.NewService(st, noticeSink(st, j, noticeLookup(st, nil)), mandates.ServiceConfig{})
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
	if _, err := svc.RegisterMeasure(ctx, mandates.Actor{PersonID: operator}, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: marie, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(0, 0, -1), ValidUntil: now.AddDate(1, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, 0, -10), Reference: "RG 25/00001"}}); err != nil {
		t.Fatal(err)
	}
	letters, err := st.ToPrint(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	to := map[string]bool{}
	for _, n := range letters {
		if n.PersonID != jeanne || n.Kind != mandates.EventCreated || n.Channel != notices.Paper {
			t.Errorf("letter %+v", n)
		}
		to[n.RecipientID] = true
	}
	if len(letters) != 2 || !to[jeanne] || !to[marie] {
		t.Fatalf("%d letters to %v; want one to Jeanne and one to her tutor", len(letters), to)
	}

	email := letters[0]
	email.ID, email.Channel = mandates.NewID(now), notices.Email
	if err := st.CreateNotice(ctx, email); err != nil {
		t.Fatal(err)
	}
	stop := startNotices(ctx, st, j, slog.New(slog.DiscardHandler), noticeChannels{}, &NoticeConfig{Lease: time.Minute, Interval: time.Second})
	stop()
	if got, err := st.Notice(ctx, email.ID); err != nil || got.Version != 1 || got.LeaseOwner != "" {
		t.Errorf("an email was claimed by a dispatcher without senders: %+v, %v", got, err)
	}
}
