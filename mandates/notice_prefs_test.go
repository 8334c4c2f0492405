package mandates

import (
	"errors"
	"strings"
	"testing"
)

func TestWhoChoosesHowThePersonReceivesTheirLetters(t *testing.T) {
	p := DefaultPolicy()
	me := Actor{PersonID: actorID}
	with := func(k Kind, role Role, edit func(*Representation)) Facts {
		r := sample(k, role)
		if edit != nil {
			edit(&r)
		}
		return Facts{Representations: []Representation{r}}
	}
	allowed := []struct {
		name  string
		actor Actor
		facts Facts
	}{
		{"the person themselves, with nothing over them", Actor{PersonID: personID}, Facts{}},
		{"the person themselves, under tutelle", Actor{PersonID: personID}, with(Tutelle, RoleTuteur, nil)},
		{"the tutor", me, with(Tutelle, RoleTuteur, nil)},
		{"a co-tutor", me, with(Tutelle, RoleCoTuteur, nil)},
		{"the relative under habilitation familiale with representation", me, with(HabilitationRepresentation, RolePersonneHabilitee, nil)},
		{"the mandataire of a mandat de protection future in force", me, with(MandatProtectionFuture, RoleMandataire, nil)},
		{"a member of the organisation holding the tutelle, with a second factor",
			Actor{PersonID: actorID, SecondFactor: true},
			Facts{Representations: with(Tutelle, RoleTuteur, func(r *Representation) { r.Representative = Representative{OrganisationID: orgID} }).Representations,
				Memberships: []Membership{{OrganisationID: orgID, PersonID: actorID, Active: true}}, ActorSecondFactor: true}},
	}
	for _, tt := range allowed {
		t.Run("allowed: "+tt.name, func(t *testing.T) {
			m, err := p.NoticesManagedBy(tt.actor, personID, tt.facts, t0)
			if err != nil {
				t.Fatalf("NoticesManagedBy = %v, want allowed", err)
			}
			if self := tt.actor.PersonID == personID; self != (m.Measure == nil) {
				t.Errorf("measure %v for the person themselves: %v", m.Measure, self)
			}
		})
	}
	refused := []struct {
		name  string
		actor Actor
		facts Facts
	}{
		{"a stranger", me, Facts{}},
		{"the tutor of someone else", me, with(Tutelle, RoleTuteur, func(r *Representation) { r.PersonID = orgID })},
		{"the deputy tutor, who only watches", me, with(Tutelle, RoleSubrogeTuteur, nil)},
		{"a tutor under a measure over two areas only", me,
			with(Tutelle, RoleTuteur, func(r *Representation) { r.Areas = []Area{"argent", "logement"} })},
		{"a curator under curatelle renforcée: the person decides", me, with(CuratelleRenforcee, RoleCurateur, nil)},
		{"a curator under curatelle simple", me, with(CuratelleSimple, RoleCurateur, nil)},
		{"the relative under habilitation familiale with assistance", me, with(HabilitationAssistance, RolePersonneHabilitee, nil)},
		{"the mandataire spécial of a sauvegarde de justice", me, with(SauvegardeJustice, RoleMandataireSpecial, nil)},
		{"an aidant under a mandate", me,
			Facts{Representations: with(AidantMandate, RoleAidant, nil).Representations,
				Memberships: []Membership{{OrganisationID: orgID, PersonID: actorID, Active: true}}, ActorSecondFactor: true}},
		{"the holder of a proxy", me, with(Proxy, RoleProxyHolder, nil)},
		{"a tutor whose tutelle ended", me, with(Tutelle, RoleTuteur, func(r *Representation) { r.ValidUntil = t0.AddDate(0, 0, -1) })},
		{"a tutor whose tutelle is paused", me, with(Tutelle, RoleTuteur, func(r *Representation) { r.Status = StatusSuspended })},
		{"a tutor whose tutelle was revoked", me, with(Tutelle, RoleTuteur, func(r *Representation) { r.Status = StatusRevoked })},
		{"a tutor whose tutelle starts later", me, with(Tutelle, RoleTuteur, func(r *Representation) { r.ValidFrom = t0.AddDate(0, 0, 1) })},
		{"a member of the organisation holding the tutelle, without a second factor", me,
			Facts{Representations: with(Tutelle, RoleTuteur, func(r *Representation) { r.Representative = Representative{OrganisationID: orgID} }).Representations,
				Memberships: []Membership{{OrganisationID: orgID, PersonID: actorID, Active: true}}, ActorSecondFactor: true}},
		{"a member withdrawn from the organisation holding the tutelle", Actor{PersonID: actorID, SecondFactor: true},
			Facts{Representations: with(Tutelle, RoleTuteur, func(r *Representation) { r.Representative = Representative{OrganisationID: orgID} }).Representations,
				Memberships: []Membership{{OrganisationID: orgID, PersonID: actorID, Active: false}}, ActorSecondFactor: true}},
		{"a tutor the judge left no everyday acts to", me, with(Tutelle, RoleTuteur, func(r *Representation) {
			r.Adjustments = []Adjustment{{Party: PartyRepresentative, Action: Manage, Decision: No}}
		})},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			m, err := p.NoticesManagedBy(tt.actor, personID, tt.facts, t0)
			if !errors.Is(err, ErrNotPermitted) {
				t.Fatalf("NoticesManagedBy = %+v, %v, want ErrNotPermitted", m, err)
			}
		})
	}
	t.Run("refused: an actor or a person that is not an id", func(t *testing.T) {
		for _, ids := range [][2]string{{"", personID}, {actorID, "x"}} {
			_, err := p.NoticesManagedBy(Actor{PersonID: ids[0]}, ids[1], Facts{}, t0)
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Rule != RuleFormat {
				t.Errorf("NoticesManagedBy(%q, %q) = %v, want a format error", ids[0], ids[1], err)
			}
		}
	})
}

func TestCheckEmail(t *testing.T) {
	good := map[string]string{
		"jeanne@example.fr":                   "jeanne@example.fr",
		"  Jeanne.Lefevre@Example.FR ":        "Jeanne.Lefevre@example.fr",
		"j+courrier@mairie.nantes.fr":         "j+courrier@mairie.nantes.fr",
		"jeanne-lefevre@sous.domaine.gouv.fr": "jeanne-lefevre@sous.domaine.gouv.fr",
	}
	for in, want := range good {
		got, err := CheckEmail("email", in)
		if err != nil || got != want {
			t.Errorf("CheckEmail(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	bad := map[string]Rule{
		"":                                    RuleRequired,
		"   ":                                 RuleRequired,
		"jeanne":                              RuleFormat,
		"jeanne@":                             RuleFormat,
		"@example.fr":                         RuleFormat,
		"jeanne@example":                      RuleFormat,
		"jeanne@example.":                     RuleFormat,
		"jeanne@.example.fr":                  RuleFormat,
		"jeanne@example..fr":                  RuleFormat,
		"jeanne lefevre@example.fr":           RuleFormat,
		"Jeanne <jeanne@example.fr>":          RuleFormat,
		"jeanne@example.fr, marie@example.fr": RuleFormat,
		"jeanne@[192.168.1.1]":                RuleFormat,
		"jeanne@exa\xffmple.fr":               RuleFormat,
		strings.Repeat("a", 250) + "@ex.fr":   RuleTooLong,
	}
	for in, rule := range bad {
		_, err := CheckEmail("email", in)
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Field != "email" || inv.Rule != rule {
			t.Errorf("CheckEmail(%q) = %v, want the rule %s on email", in, err, rule)
		}
	}
}
