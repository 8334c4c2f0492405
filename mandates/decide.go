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
// and the reason, which the package locales words in French and English.
type Answer struct {
	Decision       Decision
	Representation *Representation
	Reason         Reason
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
		return Answer{Decision: Allowed, Reason: Reason{Code: ReasonPersonalSelf}}
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
		return Answer{Decision: Allowed, Reason: Reason{Code: ReasonSelfFree}}
	}
	_, adj := adjusted(No, best.Adjustments, PartyPerson, q.Action, q.Area)
	reason := Reason{Code: ReasonSelfNo, Kind: best.Kind, Role: best.Role, Judge: adj}
	switch d {
	case Allowed:
		reason.Code = ReasonSelfAllowed
	case Cosign:
		reason.Code = ReasonSelfCosign
	}
	return Answer{Decision: d, Representation: best, Reason: reason}
}

// decideRepresentative: the most permissive of the actor's representations
// of the person that are in force and cover the area; when none is in
// force, the reason says why the closest one is not.
func (p *Policy) decideRepresentative(q Question, f Facts) Answer {
	if q.Action == Personal {
		return Answer{Decision: No, Reason: Reason{Code: ReasonPersonalOnly}}
	}
	var best, limit *Representation
	d := No
	var why Reason
	for i := range f.Representations {
		r := &f.Representations[i]
		if r.PersonID != q.PersonID || (q.RepresentationID != "" && r.ID != q.RepresentationID) {
			continue
		}
		ok, refusal := p.actorHolds(r, q, f)
		if !ok {
			if refusal != (Reason{}) && why == (Reason{}) {
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
		if why == (Reason{}) {
			why = Reason{Code: ReasonNothing}
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
	_, adj := p.representativeDecision(best, q.Action, q.Area)
	reason := Reason{Code: ReasonNotAllowed, Kind: best.Kind, Role: best.Role, Judge: adj}
	switch {
	case d == Allowed:
		reason.Code = ReasonAllowed
	case d == Cosign:
		reason.Code = ReasonCosign
	case best.Kind == Proxy && !containsAction(best.Granted, q.Action):
		reason.Code = ReasonProxyNotGranted
	}
	return Answer{Decision: d, Representation: best, Reason: reason}
}

// actorHolds says whether the actor may use r now in the area, or why not
// (an empty reason when r is simply not the actor's).
func (p *Policy) actorHolds(r *Representation, q Question, f Facts) (bool, Reason) {
	if ok, why := p.holds(r, Actor{PersonID: q.ActorID, SecondFactor: f.ActorSecondFactor}, q.At, f.Memberships); !ok {
		return false, why
	}
	if why := p.basisEnded(r, f.Representations, q.At); why != (Reason{}) {
		return false, why
	}
	if !r.Covers(q.Area) {
		return false, Reason{Code: ReasonAreaNotCovered, Kind: r.Kind, Role: r.Role}
	}
	if rep := r.Representative; rep.IsOrganisation() {
		if o, ok := f.Organisations[rep.OrganisationID]; !ok || !o.Covers(q.Area) {
			return false, Reason{Code: ReasonOrganisationArea, Kind: r.Kind, Role: r.Role}
		}
	}
	return true, Reason{}
}

// holds says whether the actor may use r at `at`, whatever the area: r is
// in force and the actor holds it, in their own name or as an active (and
// designated) member of the organisation holding it, with a second factor
// (DESIGN.md §4: a professional act needs one). The reason is empty when r
// is simply not the actor's.
func (p *Policy) holds(r *Representation, a Actor, at time.Time, ms []Membership) (bool, Reason) {
	rep := r.Representative
	actorID := a.PersonID
	because := func(c ReasonCode) Reason { return Reason{Code: c, Kind: r.Kind, Role: r.Role} }
	if rep.IsOrganisation() {
		i := slices.IndexFunc(ms, func(m Membership) bool {
			return m.OrganisationID == rep.OrganisationID && m.PersonID == actorID
		})
		if i < 0 {
			return false, Reason{}
		}
		if !ms[i].Active {
			return false, because(ReasonMembershipWithdrawn)
		}
		if len(rep.Delegates) > 0 && !slices.Contains(rep.Delegates, actorID) {
			return false, because(ReasonNotDelegate)
		}
	} else if rep.PersonID != actorID {
		return false, Reason{}
	}
	switch r.EffectiveStatus(at) {
	case StatusActive:
		if rep.IsOrganisation() && !a.SecondFactor {
			// A professional without a second factor cannot act
			// through their organisation.
			return false, because(ReasonSecondFactor)
		}
		return true, Reason{}
	case StatusExpired:
		return false, because(ReasonExpired)
	case StatusRevoked:
		return false, because(ReasonRevoked)
	case StatusSuspended:
		return false, because(ReasonSuspended)
	case StatusPendingConsent:
		return false, because(ReasonPendingConsent)
	}
	return false, because(ReasonNotYet)
}
