package mandates

import (
	"errors"
	"slices"
)

// Check reports every problem of a registration that the law's shape lets
// it see before any record is read, in the order a form asks for them, at
// most one per field and list item: the kind, the representatives (one
// person or one organisation each, not the represented person, not twice,
// a role of the measure), the areas, the dates, the decision and the
// adjustments. RegisterMeasure refuses the first one, whatever the path
// (page, API, command); a page shows them all at once. A representative's
// and an adjustment's problems carry their Index, from 1.
func (in *MeasureInput) Check() []*InvalidError {
	var out []*InvalidError
	add := func(err error) {
		var inv *InvalidError
		if errors.As(err, &inv) {
			out = append(out, inv)
		}
	}
	if !in.Kind.IsMeasure() {
		add(invalid("kind", RuleUnknown))
	}
	if in.PersonID == "" {
		add(invalid("person", RuleRequired))
	} else if !IsID(in.PersonID) {
		add(invalid("person", RuleFormat))
	}
	for i, ri := range in.Representatives {
		add(atIndex(in.checkRepresentative(i), i+1))
		add(atIndex(ri.checkRole(in.Kind), i+1))
	}
	if len(in.Representatives) == 0 {
		add(invalid("representatives", RuleRequired))
	}
	add(CheckAreas("procedure_areas", in.Areas))
	for _, err := range in.checkDates() {
		add(err)
	}
	for _, err := range in.checkDecision() {
		add(err)
	}
	for i, a := range in.Adjustments {
		for _, err := range a.problems() {
			add(atIndex(err, i+1))
		}
	}
	return out
}

// checkRepresentative is the first problem of who the i-th representative
// is.
func (in *MeasureInput) checkRepresentative(i int) error {
	ri := in.Representatives[i]
	switch {
	case ri.PersonID != "" && ri.OrganisationID != "":
		return invalid("representative", RuleBoth)
	case ri.PersonID == "" && ri.OrganisationID == "":
		return invalid("representative", RuleRequired)
	case ri.PersonID != "" && !IsID(ri.PersonID):
		return invalid("representative", RuleFormat)
	case ri.OrganisationID != "" && !IsID(ri.OrganisationID):
		return invalid("organisation", RuleFormat)
	case ri.PersonID != "" && ri.PersonID == in.PersonID:
		return invalid("representative", RuleSelf)
	}
	key := ri.PersonID + ri.OrganisationID
	if slices.ContainsFunc(in.Representatives[:i], func(o RepresentativeInput) bool { return o.PersonID+o.OrganisationID == key }) {
		return invalid("representatives", RuleDuplicate)
	}
	return nil
}

// checkRole: a role is required, must exist, and must be one of the
// measure's (asked only of a kind that is a measure).
func (ri RepresentativeInput) checkRole(k Kind) error {
	switch {
	case ri.Role == "":
		return invalid("role", RuleRequired)
	case !slices.ContainsFunc(Kinds, ri.Role.ValidFor):
		return invalid("role", RuleUnknown)
	case k.IsMeasure() && !ri.Role.ValidFor(k):
		return invalid("role", RuleForbidden)
	}
	return nil
}

// checkDates: a start, an end after it (a mandat de protection future may
// have none). The law's longest term is Representation.Validate's.
func (in *MeasureInput) checkDates() []error {
	var out []error
	if in.ValidFrom.IsZero() {
		out = append(out, invalid("valid_from", RuleRequired))
	}
	switch {
	case in.ValidUntil.IsZero() && in.Kind != MandatProtectionFuture:
		out = append(out, invalid("valid_until", RuleRequired))
	case !in.ValidFrom.IsZero() && !in.ValidUntil.IsZero() && !in.ValidUntil.After(in.ValidFrom):
		out = append(out, invalid("valid_until", RuleAfter))
	}
	return out
}

// checkDecision: the court, the decision's number and its date.
func (in *MeasureInput) checkDecision() []error {
	d := in.Decision
	out := []error{
		checkText("decision_jurisdiction", d.Jurisdiction, MaxJurisdiction, true),
		checkText("decision_reference", d.Reference, MaxReference, true),
	}
	if d.Date.IsZero() {
		out = append(out, invalid("decision_date", RuleRequired))
	}
	return out
}
