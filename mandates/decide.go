package mandates

import (
	"slices"
	"time"
)

// Question is what a site or a page asks: may ActorID do Action for
// PersonID in Area at At? RepresentationID, when set, limits the answer to
// that representation (the one a token carries).
type Question struct {
	ActorID          string
	PersonID         string
	Action           Action
	Area             Area
	At               time.Time
	RepresentationID string
}

// Answer is the decision, the representation it rests on (nil when none),
// and the reason in plain French and English.
type Answer struct {
	Decision       Decision
	Representation *Representation
	Reason         Text
	// Agreement is set when the answer is cosign because a measure over
	// the person asks its representative's agreement for an act done
	// under a mandate or a proxy (an aidant acting for a person under
	// curatelle): that measure's representative agrees.
	Agreement *Representation
}

// Facts are what a decision reads from the store.
type Facts struct {
	// Representations of the person asked about (PersonID), any status.
	Representations []Representation
	// Memberships of the actor, any status.
	Memberships []Membership
	// Organisations holding any of those representations, by id.
	Organisations map[string]Organisation
	// ActorSecondFactor: the actor has a confirmed second factor, without
	// which no representation held through an organisation is usable.
	ActorSecondFactor bool
}

// Decide answers q from the facts: the one function behind every "may A do
// X for P in D at T?" in Relais. It fails only on a malformed question
// (ErrInvalid).
func (p *Policy) Decide(q Question, f Facts) (Answer, error) {
	switch {
	case !IsID(q.ActorID):
		return Answer{}, invalid("actor", RuleFormat)
	case !IsID(q.PersonID):
		return Answer{}, invalid("person", RuleFormat)
	case !q.Action.Valid():
		return Answer{}, invalid("action", RuleUnknown)
	case !q.Area.Valid():
		return Answer{}, invalid("procedure_area", RuleUnknown)
	case q.At.IsZero():
		return Answer{}, invalid("at", RuleRequired)
	}
	if q.ActorID == q.PersonID {
		return p.decideSelf(q, f), nil
	}
	return p.decideRepresentative(q, f), nil
}

// decideSelf: the person acting alone keeps what every measure in force
// over the area leaves them; the most restrictive measure wins.
func (p *Policy) decideSelf(q Question, f Facts) Answer {
	if q.Action == Personal {
		return Answer{Decision: Allowed, Reason: Text{
			"autorisé : cet acte est personnel. La personne le fait elle-même.",
			"allowed: this act is personal. The person does it themselves."}}
	}
	var best *Representation
	d := Allowed
	for i := range f.Representations {
		r := &f.Representations[i]
		if r.PersonID != q.PersonID || !r.Kind.IsMeasure() || !r.ActiveAt(q.At) || !r.Covers(q.Area) {
			continue
		}
		if rd := p.PersonDecision(r, q.Action, q.Area); best == nil || rd.rank() < d.rank() {
			best, d = r, rd
		}
	}
	if best == nil {
		return Answer{Decision: Allowed, Reason: Text{
			"autorisé : la personne agit pour elle-même.",
			"allowed: the person acts for themselves."}}
	}
	k, role := best.Kind.The(), best.Role.The()
	_, adj := adjusted(No, best.Adjustments, PartyPerson, q.Action, q.Area)
	var reason Text
	switch d {
	case Allowed:
		reason = Text{"autorisé : avec " + k.FR + ", la personne peut faire cet acte seule.",
			"allowed: under " + k.EN + ", the person may do this act alone."}
	case Cosign:
		reason = Text{"refusé : pour cet acte, " + k.FR + " demande l’accord " + roleOf(best.Role).FR + ".",
			"refused: for this act, " + k.EN + " needs " + roleOf(best.Role).EN + " agreement."}
	default:
		reason = Text{"refusé : avec " + k.FR + ", " + role.FR + " fait cet acte pour la personne.",
			"refused: under " + k.EN + ", " + role.EN + " does this act for the person."}
	}
	if adj {
		reason = withJudge(reason)
	}
	return Answer{Decision: d, Representation: best, Reason: reason}
}

func roleOf(r Role) Text { return roleText[r].of }

func withJudge(t Text) Text {
	return Text{t.FR + " C’est ce que prévoit la décision du juge.", t.EN + " The court decision says so."}
}

// decideRepresentative: the most permissive of the actor's representations
// of the person that are in force and cover the area; when none is in
// force, the reason says why the closest one is not.
func (p *Policy) decideRepresentative(q Question, f Facts) Answer {
	if q.Action == Personal {
		return Answer{Decision: No, Reason: Text{
			"refusé : cet acte est strictement personnel. Seule la personne peut le faire.",
			"refused: this act is strictly personal. Only the person can do it."}}
	}
	var best, limit *Representation
	d := No
	var why Text
	for i := range f.Representations {
		r := &f.Representations[i]
		if r.PersonID != q.PersonID || (q.RepresentationID != "" && r.ID != q.RepresentationID) {
			continue
		}
		ok, refusal := p.actorHolds(r, q, f)
		if !ok {
			if refusal != (Text{}) && why == (Text{}) {
				why = refusal
			}
			continue
		}
		// Never more than the measures over the person leave.
		rd, by := p.capped(r, p.RepresentativeDecision(r, q.Action, q.Area), q.Action, q.Area, f.Representations, q.At)
		if best == nil || rd.rank() > d.rank() {
			best, d, limit = r, rd, by
		}
	}
	if best == nil {
		if why == (Text{}) {
			why = Text{"refusé : rien ne permet d’agir pour cette personne.",
				"refused: nothing lets this actor act for this person."}
		}
		return Answer{Decision: No, Reason: why}
	}
	if limit != nil {
		ans := Answer{Decision: d, Representation: best, Reason: p.cappedReason(best, limit, d)}
		if d == Cosign {
			ans.Agreement = limit
		}
		return ans
	}
	k, to := best.Kind.The(), roleText[best.Role].to
	_, adj := p.representativeDecision(best, q.Action, q.Area)
	var reason Text
	switch {
	case d == Allowed:
		reason = Text{"autorisé : " + k.FR + " permet " + to.FR + " de faire cet acte.",
			"allowed: " + k.EN + " lets " + to.EN + " do this act."}
	case d == Cosign:
		reason = Text{"refusé : pour cet acte, " + k.FR + " demande aussi l’accord de la personne protégée.",
			"refused: for this act, " + k.EN + " also needs the protected person’s agreement."}
	case best.Kind == Proxy && !containsAction(best.Granted, q.Action):
		reason = Text{"refusé : la procuration ne donne pas ce droit.", "refused: the proxy does not give this right."}
	default:
		reason = Text{"refusé : " + k.FR + " ne permet pas " + to.FR + " de faire cet acte.",
			"refused: " + k.EN + " does not let " + to.EN + " do this act."}
	}
	if adj {
		reason = withJudge(reason)
	}
	return Answer{Decision: d, Representation: best, Reason: reason}
}

// actorHolds says whether the actor may use r now in the area, or why not
// (an empty reason when r is simply not the actor's).
func (p *Policy) actorHolds(r *Representation, q Question, f Facts) (bool, Text) {
	if ok, why := p.holds(r, Actor{PersonID: q.ActorID, SecondFactor: f.ActorSecondFactor}, q.At, f.Memberships); !ok {
		return false, why
	}
	if why := p.basisEnded(r, f.Representations, q.At); why != (Text{}) {
		return false, why
	}
	k := r.Kind.The()
	if !r.Covers(q.Area) {
		return false, Text{"refusé : " + k.FR + " ne couvre pas ce domaine.", "refused: " + k.EN + " does not cover this area."}
	}
	if rep := r.Representative; rep.IsOrganisation() {
		if o, ok := f.Organisations[rep.OrganisationID]; !ok || !o.Covers(q.Area) {
			return false, Text{"refusé : la structure n’agit pas dans ce domaine.",
				"refused: the organisation does not act in this area."}
		}
	}
	return true, Text{}
}

// holds says whether the actor may use r at `at`, whatever the area: r is
// in force and the actor holds it, in their own name or as an active (and
// designated) member of the organisation holding it, with a second factor
// (DESIGN.md §4: a professional act needs one). The reason is empty when r
// is simply not the actor's.
func (p *Policy) holds(r *Representation, a Actor, at time.Time, ms []Membership) (bool, Text) {
	rep := r.Representative
	actorID := a.PersonID
	k := r.Kind.The()
	if rep.IsOrganisation() {
		i := slices.IndexFunc(ms, func(m Membership) bool {
			return m.OrganisationID == rep.OrganisationID && m.PersonID == actorID
		})
		if i < 0 {
			return false, Text{}
		}
		if !ms[i].Active {
			return false, Text{"refusé : la structure a retiré son habilitation à cet aidant.",
				"refused: the organisation withdrew this aidant’s habilitation."}
		}
		if len(rep.Delegates) > 0 && !slices.Contains(rep.Delegates, actorID) {
			return false, Text{"refusé : la structure n’a pas désigné cette personne pour ce suivi.",
				"refused: the organisation has not named this person for this case."}
		}
	} else if rep.PersonID != actorID {
		return false, Text{}
	}
	switch r.EffectiveStatus(at) {
	case StatusActive:
		if rep.IsOrganisation() && !a.SecondFactor {
			return false, textSecondFactor
		}
		return true, Text{}
	case StatusExpired:
		return false, Text{"refusé : " + k.FR + " ne s’applique plus : sa date de fin est passée.",
			"refused: " + k.EN + " no longer applies: its end date has passed."}
	case StatusRevoked:
		return false, Text{"refusé : " + k.FR + " a pris fin : l’accès a été arrêté.",
			"refused: " + k.EN + " has ended: access was stopped."}
	case StatusSuspended:
		return false, Text{"refusé : " + k.FR + " est en pause.", "refused: " + k.EN + " is paused."}
	case StatusPendingConsent:
		return false, Text{"refusé : " + k.FR + " attend encore un accord.", "refused: " + k.EN + " is still waiting for agreement."}
	}
	return false, Text{"refusé : " + k.FR + " ne s’applique pas encore.", "refused: " + k.EN + " does not apply yet."}
}

// textSecondFactor is why a professional without a second factor cannot
// act through their organisation.
var textSecondFactor = Text{"refusé : pour agir au nom de la structure, il faut se connecter avec un code de confirmation.",
	"refused: to act for the organisation, log in with a confirmation code."}
