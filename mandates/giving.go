package mandates

import (
	"fmt"
	"slices"
	"time"
)

// Giver says who gives an aidant mandate or a proxy for a person under a
// measure (DESIGN.md §3), as the policy file's "give" rows set it for each
// kind of measure.
type Giver string

const (
	// GivenByRepresentative: the representative gives or refuses it for
	// the person (tutelle, habilitation familiale with representation, a
	// mandat de protection future in force); the person's own word is not
	// enough.
	GivenByRepresentative Giver = "representative"
	// GivenWithAgreement: the person gives it and the representative must
	// agree (curatelle renforcée: the curator manages the person's income
	// and expenses).
	GivenWithAgreement Giver = "person_with_agreement"
	// GivenByPerson: the person gives it; the representative is told
	// (curatelle simple, habilitation familiale with assistance,
	// sauvegarde de justice).
	GivenByPerson Giver = "person_told"
)

// Valid says whether g is one of the three rules.
func (g Giver) Valid() bool {
	return g == GivenByRepresentative || g == GivenWithAgreement || g == GivenByPerson
}

// strictness orders the rules: where two measures are in force, the
// stricter one decides.
func (g Giver) strictness() int {
	switch g {
	case GivenByRepresentative:
		return 2
	case GivenWithAgreement:
		return 1
	}
	return 0
}

// Giver is the rule of who gives a mandate or a proxy for a person under a
// measure of kind k. Kinds that are not measures have no rule: the person
// gives.
func (p *Policy) Giver(k Kind) Giver {
	if g, ok := p.givers[k]; ok {
		return g
	}
	return GivenByPerson
}

// UnderMeasure records, on a mandate or a proxy asked for a person under a
// measure, the measure whose rule it follows and where it stands.
type UnderMeasure struct {
	// MeasureID is the representation of the measure's representative who
	// must give or agree; DecisionKey is the decision's, so that a
	// co-representative of the same decision may answer too.
	MeasureID   string `json:"measure_id"`
	DecisionKey string `json:"decision_key"`
	Kind        Kind   `json:"kind"`
	Giver       Giver  `json:"giver"`
	// RequestedBy is who asked for it (the aidant), so the representative
	// knows who is asking.
	RequestedBy string `json:"requested_by,omitempty"`
	// AnsweredBy and AnsweredAt: the representative who gave it or agreed
	// to it (empty while waiting).
	AnsweredBy string    `json:"answered_by,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
}

// Rule is the measure whose rule a new mandate or proxy for a person
// follows, in the areas asked: of the measures in force over the person at
// `at` that cover one of the areas, the strictest (nil when none). reps are
// the person's representations.
func (p *Policy) Rule(reps []Representation, personID string, areas []Area, at time.Time) *Representation {
	var best *Representation
	rank := func(m *Representation) int {
		n := 2 * p.Giver(m.Kind).strictness()
		if p.mayAnswer(m) {
			n++
		}
		return n
	}
	for i := range reps {
		m := &reps[i]
		if m.PersonID != personID || !m.Kind.IsMeasure() || !m.ActiveAt(at) || !coversAny(m, areas) {
			continue
		}
		if best == nil || rank(m) > rank(best) {
			best = m
		}
	}
	return best
}

func coversAny(m *Representation, areas []Area) bool {
	return len(areas) == 0 || slices.ContainsFunc(areas, m.Covers)
}

func coversAll(m *Representation, areas []Area) bool {
	for _, a := range areas {
		if !m.Covers(a) {
			return false
		}
	}
	return true
}

// mayAnswer says whether the representative of measure m is one who gives
// or agrees for the person: one the policy lets manage the person's
// affairs (a tutor, a curator under curatelle renforcée), not a deputy
// who only watches. Under a measure whose rule is GivenByPerson, whoever
// represents is told.
func (p *Policy) mayAnswer(m *Representation) bool {
	return p.Giver(m.Kind) == GivenByPerson || p.RepresentativeDecision(m, Manage, "") == Allowed
}

// GivesAll is, among reps, a measure in force at `at` over all the
// person's affairs (no areas named) whose representative gives mandates
// and proxies for them (tutelle): the person then gives none, in any area.
// nil when there is none; a measure over some areas leaves the others to
// GiveProxy and StartMandate, which decide area by area.
func (p *Policy) GivesAll(reps []Representation, at time.Time) *Representation {
	i := slices.IndexFunc(reps, func(m Representation) bool {
		return m.Kind.IsMeasure() && m.ActiveAt(at) && len(m.Areas) == 0 && p.Giver(m.Kind) == GivenByRepresentative
	})
	if i < 0 {
		return nil
	}
	return &reps[i]
}

// GivesFor says whether the holder of measure m gives mandates and proxies
// for the person (under tutelle, the tutor, not the deputy who watches):
// pages offer them the form; GiveProxy and AnswerForPerson decide.
func (p *Policy) GivesFor(m *Representation) bool {
	return m.Kind.IsMeasure() && p.Giver(m.Kind) == GivenByRepresentative && p.mayAnswer(m)
}

// underMeasure is the record a new mandate or proxy keeps of the rule it
// follows.
func (p *Policy) underMeasure(m *Representation, requestedBy string) *UnderMeasure {
	if m == nil {
		return nil
	}
	u := &UnderMeasure{MeasureID: m.ID, Kind: m.Kind, Giver: p.Giver(m.Kind), RequestedBy: requestedBy}
	if m.Source.Decision != nil {
		u.DecisionKey = m.Source.Decision.Key()
	}
	return u
}

// CheckGiven says whether r, a mandate or a proxy written in force by a
// loader rather than through the service (the demo data), was given as
// the measures over the person among reps require at `at`: under a measure
// whose representative gives it, that representative gave it
// (ErrRepresentativeGives otherwise); under one that asks the
// representative's agreement, they agreed (ErrNotPermitted otherwise).
func (p *Policy) CheckGiven(r *Representation, reps []Representation, at time.Time) error {
	if r.Kind.IsMeasure() || r.Status != StatusActive {
		return nil
	}
	m := p.Rule(reps, r.PersonID, r.Areas, at)
	if m == nil {
		return nil
	}
	u := r.Source.Measure
	answered := u != nil && u.AnsweredBy != "" && sameDecision(u, m)
	switch g := p.Giver(m.Kind); {
	case g == GivenByRepresentative && !answered:
		return fmt.Errorf("representation %s: %w", r.ID, ErrRepresentativeGives)
	case g == GivenWithAgreement && !answered:
		return fmt.Errorf("%w: representation %s needs the agreement of the representative under %s", ErrNotPermitted, r.ID, m.Kind)
	}
	return nil
}

// Waiting is who a mandate or proxy waiting for consent waits for.
type Waiting string

const (
	WaitingNobody         Waiting = ""
	WaitingPerson         Waiting = "person"         // the person's consent (an aidant mandate)
	WaitingHolder         Waiting = "holder"         // the trusted person's acceptance (a proxy)
	WaitingRepresentative Waiting = "representative" // the representative under the measure: to give it, or to agree
)

// Waits says who the representation waits for now. Under a measure whose
// representative gives it, the representative first; then, for a mandate,
// the person's consent; then the representative's agreement where the
// measure asks it; then, for a proxy, the trusted person's acceptance.
func (r *Representation) Waits() Waiting {
	if r.Status != StatusPendingConsent {
		return WaitingNobody
	}
	u := r.Source.Measure
	representative := u != nil && u.AnsweredBy == "" && u.Giver != GivenByPerson
	consented := r.Source.Consent != nil && !r.Source.Consent.GivenAt.IsZero()
	switch {
	case representative && u.Giver == GivenByRepresentative:
		return WaitingRepresentative
	case r.Kind == AidantMandate && !consented:
		return WaitingPerson
	case representative:
		return WaitingRepresentative
	case r.Kind == Proxy && (r.Source.Consent == nil || r.Source.Consent.AcceptedAt.IsZero()):
		return WaitingHolder
	}
	return WaitingNobody
}

// AwaitsHolder says whether r is a proxy waiting for personID, its holder,
// to accept or refuse it: nobody else must answer before (Waits).
func (r *Representation) AwaitsHolder(personID string) bool {
	return r.Kind == Proxy && r.Waits() == WaitingHolder && r.Representative.PersonID == personID
}

// capped is what the holder of r, a mandate or a proxy, may do for action
// a in area once the measures in force over the person are applied (never
// more than the measure leaves): under a measure whose representative
// gives mandates, the holder does what that representative may do when
// the representative gave it, and only what the person may do alone
// otherwise; under the other measures, what the person may do alone, with
// the same agreement (an act that needs the curator's agreement still
// needs it). It returns the decision and, when a measure lowered it, that
// measure.
func (p *Policy) capped(r *Representation, d Decision, a Action, area Area, reps []Representation, at time.Time) (Decision, *Representation) {
	if r.Kind.IsMeasure() || d == No {
		return d, nil
	}
	var by *Representation
	for i := range reps {
		m := &reps[i]
		if m.PersonID != r.PersonID || !m.Kind.IsMeasure() || !m.ActiveAt(at) || !m.Covers(area) {
			continue
		}
		c := p.measureCap(r, m, a, area, reps, at)
		if c.rank() < d.rank() || (by != nil && c == d && p.RepresentativeDecision(by, a, area) == No) {
			d, by = c, m
		}
	}
	return d, by
}

// measureCap is what measure m leaves the holder of r, a mandate or a
// proxy. When the representative under m's decision gave r, the holder
// does what the record that gave it may do in the area (giver, among
// reps), and what the person may do alone where that record does not
// reach; otherwise what the person may do alone.
func (p *Policy) measureCap(r, m *Representation, a Action, area Area, reps []Representation, at time.Time) Decision {
	u := r.Source.Measure
	if p.Giver(m.Kind) != GivenByRepresentative || u == nil || u.AnsweredBy == "" || !sameDecision(u, m) {
		return p.PersonDecision(m, a, area)
	}
	i := slices.IndexFunc(reps, func(g Representation) bool { return g.ID == u.MeasureID })
	if i < 0 || !reps[i].ActiveAt(at) || !reps[i].Covers(area) {
		return p.PersonDecision(m, a, area)
	}
	return p.RepresentativeDecision(&reps[i], a, area)
}

// basisEnded says why r, a mandate or a proxy a representative gave for
// the person under a measure, can no longer be used: that measure is no
// longer in force (the person decides again for themselves, and never
// consented to it). The zero Reason when it can.
func (p *Policy) basisEnded(r *Representation, reps []Representation, at time.Time) Reason {
	u := r.Source.Measure
	if r.Kind.IsMeasure() || u == nil || u.Giver != GivenByRepresentative || u.AnsweredBy == "" {
		return Reason{}
	}
	if slices.ContainsFunc(reps, func(m Representation) bool { return m.Kind.IsMeasure() && sameDecision(u, &m) && m.ActiveAt(at) }) {
		return Reason{}
	}
	return Reason{Code: ReasonBasisEnded, Kind: r.Kind, Role: r.Role, MeasureKind: u.Kind}
}

func sameDecision(u *UnderMeasure, m *Representation) bool {
	if m.ID == u.MeasureID {
		return true
	}
	return m.Source.Decision != nil && u.DecisionKey != "" && m.Source.Decision.Key() == u.DecisionKey
}

// cappedReason says why a measure lowered what a mandate or proxy allows.
func (p *Policy) cappedReason(r, m *Representation, d Decision) Reason {
	why := Reason{Code: ReasonMeasureNo, Kind: r.Kind, Role: r.Role, MeasureKind: m.Kind, MeasureRole: m.Role}
	if d == Cosign {
		why.Code = ReasonMeasureCosign
	} else if u := r.Source.Measure; (u == nil || u.AnsweredBy == "") && p.Giver(m.Kind) == GivenByRepresentative {
		why.Code = ReasonMeasureGiver
	}
	return why
}

// parseGiveRow reads a "give KIND RULE" row of a policy file.
func parseGiveRow(f []string) (Kind, Giver, string) {
	if len(f) != 3 {
		return "", "", fmt.Sprintf("want 3 words (give, kind, who gives), found %d", len(f))
	}
	k := Kind(f[1])
	if !k.IsMeasure() {
		return "", "", fmt.Sprintf("%q is not a kind of measure: a give row names a measure", f[1])
	}
	g := Giver(f[2])
	if !g.Valid() {
		return "", "", fmt.Sprintf("%q is not who gives: use representative, person_with_agreement or person_told", f[2])
	}
	return k, g, ""
}

// Allows is what the holder of v may do for action a in area, as a token's
// claims say it: the policy's answer for v's representative, never more
// than the measures in v.Limits leave. With area empty, it is the
// strictest answer over the areas v covers.
func (p *Policy) Allows(v *View, a Action, area Area) Decision {
	r := &v.Representation
	if area != "" || len(r.Areas) == 0 {
		d, _ := p.capped(r, p.RepresentativeDecision(r, a, area), a, area, v.Limits, v.LimitsAt)
		return d
	}
	d := Allowed
	for _, ar := range r.Areas {
		if c := p.Allows(v, a, ar); c.rank() < d.rank() {
			d = c
		}
	}
	return d
}
