package notices_test

import (
	"slices"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// cast: Jeanne is under tutelle, Paul is her tutor; Karim her trusted
// person; France Services Nantes (an organisation) asks mandates, through
// its aidant Lina; the MJPM service is an organisation that may hold a
// measure.
var (
	jeanne    = mandates.NewID(t0)
	paul      = mandates.NewID(t0)
	karim     = mandates.NewID(t0)
	lina      = mandates.NewID(t0)
	operator  = mandates.NewID(t0)
	franceSrv = mandates.NewID(t0)
	mjpm      = mandates.NewID(t0)
)

func rep(kind mandates.Kind, holder mandates.Representative) *mandates.Representation {
	return &mandates.Representation{ID: mandates.NewID(t0), Kind: kind, PersonID: jeanne, Representative: holder}
}

func TestRules(t *testing.T) {
	tutelle := rep(mandates.Tutelle, mandates.Representative{PersonID: paul})
	byMJPM := rep(mandates.CuratelleRenforcee, mandates.Representative{OrganisationID: mjpm})
	proxy := rep(mandates.Proxy, mandates.Representative{PersonID: karim})
	mandate := rep(mandates.AidantMandate, mandates.Representative{OrganisationID: franceSrv})
	mandate.Source.Measure = &mandates.UnderMeasure{MeasureID: tutelle.ID}
	paulsProxy := rep(mandates.Proxy, mandates.Representative{PersonID: paul})
	paulsProxy.Source.Measure = &mandates.UnderMeasure{MeasureID: tutelle.ID}
	elsewhere := rep(mandates.Tutelle, mandates.Representative{PersonID: paul})
	elsewhere.PersonID = karim

	ev := func(typ mandates.EventType, actor, org string, r *mandates.Representation) mandates.Event {
		e := mandates.Event{Type: typ, At: t0, ActorID: actor, OrganisationID: org, PersonID: jeanne}
		if r != nil {
			e.RepresentationID = r.ID
		}
		return e
	}
	person := notices.Addressee{ID: jeanne, Kind: notices.ToPerson, Role: notices.RolePerson}
	to := func(id string, kind notices.RecipientKind, role notices.Role) notices.Addressee {
		return notices.Addressee{ID: id, Kind: kind, Role: role}
	}
	tests := []struct {
		name  string
		e     mandates.Event
		facts notices.Facts
		want  []notices.Addressee
	}{
		{"a tutelle registered by an operator: Jeanne and her tutor", ev(mandates.EventCreated, operator, "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleRepresentative)}},
		{"a measure held by an MJPM service: the service gets the letter", ev(mandates.EventActivated, operator, "", byMJPM),
			notices.Facts{Representation: byMJPM}, []notices.Addressee{person, to(mjpm, notices.ToOrganisation, notices.RoleRepresentative)}},
		{"a tutelle paused, changed, resumed, ended: Jeanne and her tutor each time", ev(mandates.EventSuspended, operator, "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleRepresentative)}},
		{"a correction", ev(mandates.EventUpdated, operator, "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleRepresentative)}},
		{"an end at its date, with nobody acting", ev(mandates.EventExpired, "", "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleRepresentative)}},
		{"a proxy Jeanne gives to Karim: Jeanne and Karim", ev(mandates.EventCreated, jeanne, "", proxy),
			notices.Facts{Representation: proxy}, []notices.Addressee{person, to(karim, notices.ToPerson, notices.RoleRepresentative)}},
		{"Karim accepts it: Jeanne only (Karim did it)", ev(mandates.EventAccepted, karim, "", proxy),
			notices.Facts{Representation: proxy}, []notices.Addressee{person}},
		{"Jeanne withdraws it: Jeanne and Karim", ev(mandates.EventWithdrawn, jeanne, "", proxy),
			notices.Facts{Representation: proxy}, []notices.Addressee{person, to(karim, notices.ToPerson, notices.RoleRepresentative)}},
		{"a mandate asked by an aidant under the tutelle reaches the tutor, not the aidant's organisation",
			ev(mandates.EventCreated, lina, franceSrv, mandate), notices.Facts{Representation: mandate, Measure: tutelle},
			[]notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleMeasure)}},
		{"the tutor gives it: Jeanne and the organisation", ev(mandates.EventConsentGiven, paul, "", mandate),
			notices.Facts{Representation: mandate, Measure: tutelle},
			[]notices.Addressee{person, to(franceSrv, notices.ToOrganisation, notices.RoleRepresentative)}},
		{"the tutor refuses it: Jeanne and the organisation", ev(mandates.EventDeclined, paul, "", mandate),
			notices.Facts{Representation: mandate, Measure: tutelle},
			[]notices.Addressee{person, to(franceSrv, notices.ToOrganisation, notices.RoleRepresentative)}},
		{"a proxy to the tutor under his own tutelle: he is told once", ev(mandates.EventCreated, operator, "", paulsProxy),
			notices.Facts{Representation: paulsProxy, Measure: tutelle},
			[]notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleRepresentative)}},
		{"Jeanne asks an agreement her curator must give: Jeanne and the curator",
			ev(mandates.EventCosignRequested, jeanne, "", byMJPM), notices.Facts{Representation: byMJPM},
			[]notices.Addressee{person, to(mjpm, notices.ToOrganisation, notices.RoleAgreement)}},
		{"the tutor asks Jeanne's agreement: Jeanne only", ev(mandates.EventCosignRequested, paul, "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person}},
		{"Jeanne gives her agreement: Jeanne", ev(mandates.EventCosignApproved, jeanne, "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleAgreement)}},
		{"a tutelle ending within 30 days: Jeanne and her tutor", ev(mandates.EventEndingSoon, "", "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleRepresentative)}},
		{"a mandate under the tutelle ending soon: Jeanne and the organisation, not the tutor", ev(mandates.EventEndingSoon, "", "", mandate),
			notices.Facts{Representation: mandate, Measure: tutelle},
			[]notices.Addressee{person, to(franceSrv, notices.ToOrganisation, notices.RoleRepresentative)}},
		{"the tutor acts at a site for the first time: Jeanne only", ev(mandates.EventSiteFirstAct, paul, "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person}},
		{"an aidant acts at a site for the first time under a mandate under the tutelle: Jeanne and the tutor, not the organisation",
			ev(mandates.EventSiteFirstAct, lina, franceSrv, mandate), notices.Facts{Representation: mandate, Measure: tutelle},
			[]notices.Addressee{person, to(paul, notices.ToPerson, notices.RoleMeasure)}},
		{"a first act never tells the holder of the representation used", ev(mandates.EventSiteFirstAct, lina, franceSrv, tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person}},
		{"Karim acts at a site under his proxy: Jeanne only", ev(mandates.EventSiteFirstAct, karim, "", proxy),
			notices.Facts{Representation: proxy}, []notices.Addressee{person}},
		{"Jeanne sets up her second factor: Jeanne only", ev(mandates.EventSecondFactorEnrolled, jeanne, "", nil),
			notices.Facts{}, []notices.Addressee{person}},
		{"Jeanne's second factor removed: Jeanne only", ev(mandates.EventSecondFactorDisabled, jeanne, "", nil),
			notices.Facts{}, []notices.Addressee{person}},
		{"an agreement used is not notified", ev(mandates.EventCosignUsed, paul, "", tutelle), notices.Facts{Representation: tutelle}, nil},
		{"a consent code sent is not notified", ev(mandates.EventConsentCodeSent, lina, franceSrv, mandate), notices.Facts{Representation: mandate}, nil},
		{"a login is not notified", ev(mandates.EventLoginSucceeded, jeanne, "", nil), notices.Facts{}, nil},
		{"a fallback is not notified again", ev(mandates.EventNoticeFallback, "", "", nil), notices.Facts{}, nil},
		{"Jeanne's new channel confirmed by her tutor: Jeanne only", ev(mandates.EventNoticeChannelConfirmed, paul, "", tutelle),
			notices.Facts{Representation: tutelle}, []notices.Addressee{person}},
		{"Jeanne's new channel confirmed by herself: Jeanne", ev(mandates.EventNoticeChannelConfirmed, jeanne, "", nil),
			notices.Facts{}, []notices.Addressee{person}},
		{"Jeanne's new password: Jeanne only", ev(mandates.EventPasswordReset, jeanne, "", nil), notices.Facts{}, []notices.Addressee{person}},
		{"Jeanne's second factor removed by an operator: Jeanne only, not the operator", ev(mandates.EventSecondFactorReset, operator, "", nil),
			notices.Facts{}, []notices.Addressee{person}},
		{"a reset code asked is not notified (the code notice is written apart)", ev(mandates.EventPasswordResetRequested, jeanne, "", nil), notices.Facts{}, nil},
		{"a code sent to a new address is not notified", ev(mandates.EventNoticeChannelRequested, jeanne, "", nil), notices.Facts{}, nil},
		{"back to paper is not notified", ev(mandates.EventNoticePaperChosen, jeanne, "", nil), notices.Facts{}, nil},
		{"a representation of someone else names no representative", ev(mandates.EventSuspended, operator, "", elsewhere),
			notices.Facts{Representation: elsewhere}, []notices.Addressee{person}},
		{"an event without its representation still tells the person", ev(mandates.EventRevoked, operator, "", nil),
			notices.Facts{}, []notices.Addressee{person}},
		{"an event about nobody tells nobody", mandates.Event{Type: mandates.EventRevoked, PersonID: ""}, notices.Facts{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notices.Rules(tt.e, tt.facts)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Rules = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestNotifiedEvents: the events the issue lists cause notices, and the
// others none.
func TestNotifiedEvents(t *testing.T) {
	want := []mandates.EventType{mandates.EventCreated, mandates.EventConsentGiven, mandates.EventActivated, mandates.EventSuspended,
		mandates.EventResumed, mandates.EventRevoked, mandates.EventWithdrawn, mandates.EventAreaWithdrawn, mandates.EventUpdated,
		mandates.EventAccepted, mandates.EventDeclined, mandates.EventAgreed, mandates.EventExpired,
		mandates.EventCosignRequested, mandates.EventCosignApproved, mandates.EventCosignRefused,
		mandates.EventNoticeChannelConfirmed, mandates.EventEndingSoon, mandates.EventSiteFirstAct, mandates.EventSecondFactorEnrolled, mandates.EventSecondFactorDisabled,
		mandates.EventPasswordReset, mandates.EventSecondFactorReset}
	paper := []mandates.EventType{mandates.EventNoticeChannelConfirmed, mandates.EventPasswordReset, mandates.EventSecondFactorReset}
	for _, typ := range mandates.EventTypes {
		if got := notices.Notified(typ); got != slices.Contains(want, typ) {
			t.Errorf("Notified(%s) = %v", typ, got)
		}
		if got := notices.AlwaysPaper(typ); got != slices.Contains(paper, typ) {
			t.Errorf("AlwaysPaper(%s) = %v", typ, got)
		}
	}
}
