package mandates

import (
	"slices"
	"strings"
	"time"
)

// Representation is every kind of "who may act for whom": a court measure,
// a mandat de protection future, an aidant mandate or a proxy (DESIGN.md §1).
// Co-representatives under one decision each have a representation of their
// own, with their own role; they share the decision's source.
type Representation struct {
	ID             string
	Kind           Kind
	PersonID       string // the represented person
	Representative Representative
	Role           Role
	// Areas are the procedure areas it covers; empty means every area, which
	// only court measures may have.
	Areas []Area
	// Granted are the action classes a proxy gives (consult, manage); empty
	// for other kinds, whose actions come from the policy.
	Granted []Action
	// Adjustments are the court decision's changes to the default policy,
	// area by area; they win over the policy file.
	Adjustments []Adjustment
	ValidFrom   time.Time
	ValidUntil  time.Time // zero: no set end (a mandat de protection future)
	Status      Status    // as stored; EffectiveStatus applies the clock
	Source      Source
	// History is every change, oldest first. Stores fill it when reading
	// one representation, and leave it empty in lists.
	History   []Change
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Representative is a person acting in their own name, or an organisation
// (an MJPM service, a France Services structure) acting through the persons
// it designates, who can change without a new court registration.
type Representative struct {
	PersonID       string
	OrganisationID string
	// Delegates are the members the organisation names for this
	// representation; empty means any of its active members.
	Delegates []string
}

// IsOrganisation says whether an organisation holds the representation.
func (r Representative) IsOrganisation() bool { return r.OrganisationID != "" }

// Source says where a representation comes from: a court decision, or a
// consent.
type Source struct {
	Decision *CourtDecision `json:"decision,omitempty"`
	Consent  *ConsentRecord `json:"consent,omitempty"`
	// Measure is, for a mandate or a proxy asked for a person under a
	// measure, the measure whose rule it follows (who gives, who agrees).
	Measure *UnderMeasure `json:"measure,omitempty"`
}

// CourtDecision is the decision an operator registered. For a mandat de
// protection future, it is the mandate as the court clerk stamped it.
type CourtDecision struct {
	Jurisdiction string    `json:"jurisdiction"` // e.g. "Tribunal judiciaire de Lyon"
	Date         time.Time `json:"date"`
	Reference    string    `json:"reference"` // the number on the decision
	Renewal      bool      `json:"renewal,omitempty"`
	RegisteredBy string    `json:"registered_by"` // the operator's person id
	RegisteredAt time.Time `json:"registered_at"`
}

// Key identifies a decision across its co-representatives: the same
// jurisdiction and reference is the same decision, however it is typed.
func (d CourtDecision) Key() string {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
	return norm(d.Jurisdiction) + "|" + norm(d.Reference)
}

// check applies the rules of the decision's free texts.
func (d *CourtDecision) check() error {
	if err := checkText("decision_jurisdiction", d.Jurisdiction, MaxJurisdiction, true); err != nil {
		return err
	}
	return checkText("decision_reference", d.Reference, MaxReference, true)
}

// ConsentMethod is how a person consented.
type ConsentMethod string

const (
	// The person confirmed with their own login, on the aidant's device.
	ConsentInPersonLogin ConsentMethod = "in_person_login"
	// The aidant recorded an in-person consent; the person keeps and signs
	// the printed attestation.
	ConsentInPersonAttestation ConsentMethod = "in_person_attestation"
	// A one-time code sent to the person's phone, read back to the aidant.
	ConsentRemoteCode ConsentMethod = "remote_code"
	// The person gave it themselves, logged in (a proxy).
	ConsentOwnAccount ConsentMethod = "own_account"
	// The representative under the measure gave it for the person (under
	// tutelle, the tutor).
	ConsentByRepresentative ConsentMethod = "by_representative"
)

// ConsentRecord is the consent a representation rests on.
type ConsentRecord struct {
	Method    ConsentMethod `json:"method"`
	GivenAt   time.Time     `json:"given_at"`
	WitnessID string        `json:"witness_id,omitempty"` // the aidant who witnessed it
	// AttestationHash is the SHA-256 of the attestation text the person
	// signs, so the signed paper can be matched later.
	AttestationHash string `json:"attestation_hash,omitempty"`
	// AcceptedAt is when the trusted person accepted a proxy.
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	// GivenBy is who consented: the person, or the representative who gave
	// it for them (ConsentByRepresentative).
	GivenBy string `json:"given_by,omitempty"`
	// PhoneEnd is the last two digits of the number a consent code was
	// sent to, so the journal can say which phone consented.
	PhoneEnd string `json:"phone_end,omitempty"`
}

// Party is who acts: the person themselves, or a representative.
type Party string

const (
	PartyPerson         Party = "person"
	PartyRepresentative Party = "representative"
)

// Adjustment is one change a court decision makes to the policy: "the
// person under tutelle may do this alone", "the curator represents in this
// area", or an act a sauvegarde's mandataire spécial is named for.
type Adjustment struct {
	Party    Party    `json:"party"`
	Area     Area     `json:"area,omitempty"` // empty: every area
	Action   Action   `json:"action"`
	Decision Decision `json:"decision"`
	Note     string   `json:"note,omitempty"` // the act as the decision words it
}

// Limits of the free texts of a court measure, in bytes.
const (
	MaxJurisdiction = 200
	MaxReference    = 100
	MaxNote         = 500 // an adjustment's wording of an act
	MaxReason       = 500 // why a representation is paused or ended
)

// Validate checks one adjustment: its first problem.
func (a Adjustment) Validate() error {
	if p := a.problems(); len(p) > 0 {
		return p[0]
	}
	return nil
}

// problems are every problem of an adjustment, one per field: who it is
// about, its area, its act (never a strictly personal one), the judge's
// answer and the act's wording.
func (a Adjustment) problems() []error {
	var out []error
	if a.Party != PartyPerson && a.Party != PartyRepresentative {
		out = append(out, invalid("adjustments.party", RuleUnknown))
	}
	if a.Area != "" && !a.Area.Valid() {
		out = append(out, invalid("adjustments.area", RuleUnknown))
	}
	switch {
	case a.Action == Personal:
		out = append(out, invalid("adjustments.action", RuleForbidden))
	case !a.Action.Valid():
		out = append(out, invalid("adjustments.action", RuleUnknown))
	}
	if !a.Decision.Valid() {
		out = append(out, invalid("adjustments.decision", RuleUnknown))
	}
	if err := checkText("adjustments.note", a.Note, MaxNote, false); err != nil {
		out = append(out, err)
	}
	return out
}

// Duration is one of the lengths aidants already know for a mandate.
type Duration string

const (
	OneDay      Duration = "1d"
	OneMonth    Duration = "1m"
	SixMonths   Duration = "6m"
	TwelveMonth Duration = "12m"
)

// Durations lists the mandate lengths, shortest first.
var Durations = []Duration{OneDay, OneMonth, SixMonths, TwelveMonth}

// Valid says whether d is one of Durations.
func (d Duration) Valid() bool { return slices.Contains(Durations, d) }

// End is when a mandate of this length that starts at from ends.
func (d Duration) End(from time.Time) time.Time {
	switch d {
	case OneDay:
		return from.AddDate(0, 0, 1)
	case OneMonth:
		return from.AddDate(0, 1, 0)
	case SixMonths:
		return from.AddDate(0, 6, 0)
	case TwelveMonth:
		return from.AddDate(1, 0, 0)
	}
	return from
}

// maxYears is the law's longest first term of each court measure (Code
// civil art. 441 and 494-6: five years, ten by a reasoned decision;
// art. 433: a sauvegarde lasts one year), and of a renewal (art. 442: up to
// twenty years).
func maxYears(k Kind, renewal bool) int {
	switch k {
	case SauvegardeJustice:
		if renewal {
			return 2
		}
		return 1
	case Tutelle, CuratelleSimple, CuratelleRenforcee, HabilitationAssistance, HabilitationRepresentation:
		if renewal {
			return 20
		}
		return 10
	}
	return 0
}

// EffectiveStatus is the status at now: an active representation outside
// its dates is expired (or not yet in force, shown as pending), with no
// background job to flip it.
func (r *Representation) EffectiveStatus(now time.Time) Status {
	if r.Status == StatusRevoked {
		return StatusRevoked
	}
	if !r.ValidUntil.IsZero() && !now.Before(r.ValidUntil) {
		return StatusExpired
	}
	if r.Status == StatusActive && now.Before(r.ValidFrom) {
		return StatusPending
	}
	return r.Status
}

// ActiveAt says whether the representation can be used at now.
func (r *Representation) ActiveAt(now time.Time) bool {
	return r.EffectiveStatus(now) == StatusActive
}

// Covers says whether it covers the procedure area a.
func (r *Representation) Covers(a Area) bool { return covers(r.Areas, a) }

// Validate reports the first field that breaks a rule of the law's shape,
// wrapped in ErrInvalid.
func (r *Representation) Validate() error {
	rep := r.Representative
	switch {
	case !IsID(r.ID):
		return invalid("id", RuleFormat)
	case !r.Kind.Valid():
		return invalid("kind", RuleUnknown)
	case !IsID(r.PersonID):
		return invalid("person", RuleFormat)
	case (rep.PersonID == "") == (rep.OrganisationID == ""):
		return invalid("representative", RuleBoth)
	case rep.PersonID != "" && !IsID(rep.PersonID):
		return invalid("representative", RuleFormat)
	case rep.OrganisationID != "" && !IsID(rep.OrganisationID):
		return invalid("representative", RuleFormat)
	case rep.PersonID == r.PersonID:
		return invalid("representative", RuleSelf)
	case len(rep.Delegates) > 0 && !rep.IsOrganisation():
		return invalid("delegates", RuleForbidden)
	case r.Kind == AidantMandate && !rep.IsOrganisation():
		return invalid("representative", RuleForbidden)
	case r.Kind == Proxy && rep.IsOrganisation():
		return invalid("representative", RuleForbidden)
	case !r.Role.ValidFor(r.Kind):
		return invalid("role", RuleUnknown)
	case !r.Status.Valid():
		return invalid("status", RuleUnknown)
	}
	for i, d := range rep.Delegates {
		if !IsID(d) || d == r.PersonID || slices.Contains(rep.Delegates[:i], d) {
			return invalid("delegates", RuleDuplicate)
		}
	}
	if err := CheckAreas("procedure_areas", r.Areas); err != nil {
		return err
	}
	if len(r.Areas) == 0 && !r.Kind.IsMeasure() {
		return invalid("procedure_areas", RuleRequired)
	}
	if r.Kind == Proxy {
		if len(r.Granted) == 0 {
			return invalid("granted", RuleRequired)
		}
		for i, a := range r.Granted {
			if (a != Consult && a != Manage) || slices.Contains(r.Granted[:i], a) {
				return invalid("granted", RuleUnknown)
			}
		}
	} else if len(r.Granted) > 0 {
		return invalid("granted", RuleForbidden)
	}
	if len(r.Adjustments) > 0 && !r.Kind.IsMeasure() {
		return invalid("adjustments", RuleForbidden)
	}
	for i, a := range r.Adjustments {
		if err := a.Validate(); err != nil {
			return atIndex(err, i+1)
		}
	}
	if err := r.validateDates(); err != nil {
		return err
	}
	return r.validateSource()
}

func (r *Representation) validateDates() error {
	switch {
	case r.ValidFrom.IsZero():
		return invalid("valid_from", RuleRequired)
	case !r.ValidUntil.IsZero() && !r.ValidUntil.After(r.ValidFrom):
		return invalid("valid_until", RuleAfter)
	case r.ValidUntil.IsZero() && r.Kind != MandatProtectionFuture:
		return invalid("valid_until", RuleRequired)
	}
	var renewal bool
	if d := r.Source.Decision; d != nil {
		renewal = d.Renewal
	}
	if y := maxYears(r.Kind, renewal); y > 0 && r.ValidUntil.After(r.ValidFrom.AddDate(y, 0, 0)) {
		return invalidLimit("valid_until", RuleMaxYears, y)
	}
	if r.Kind == AidantMandate || r.Kind == Proxy {
		ok := false
		for _, d := range Durations {
			ok = ok || d.End(r.ValidFrom).Equal(r.ValidUntil)
		}
		if !ok {
			return invalid("valid_until", RuleTerm)
		}
	}
	return nil
}

func (r *Representation) validateSource() error {
	if r.Kind.IsMeasure() {
		d := r.Source.Decision
		if d == nil {
			return invalid("decision", RuleRequired)
		}
		if err := d.check(); err != nil {
			return err
		}
		switch {
		case d.Date.IsZero():
			return invalid("decision_date", RuleRequired)
		case !IsID(d.RegisteredBy):
			return invalid("decision", RuleRequired)
		}
		if r.Kind == SauvegardeJustice && !slices.ContainsFunc(r.Adjustments, func(a Adjustment) bool {
			return a.Party == PartyRepresentative && a.Decision != No
		}) {
			return invalid("adjustments", RuleNamedActs)
		}
		return nil
	}
	c := r.Source.Consent
	if c == nil && (r.Status == StatusPendingConsent || r.Status == StatusRevoked) {
		// Waiting for consent, or a request cancelled before it.
		return nil
	}
	switch {
	case c == nil:
		return invalid("consent", RuleRequired)
	case c.GivenAt.IsZero():
		return invalid("consent", RuleRequired)
	case r.Kind == AidantMandate && !IsID(c.WitnessID):
		return invalid("consent", RuleRequired)
	}
	return nil
}
