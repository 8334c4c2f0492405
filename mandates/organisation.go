package mandates

import (
	"time"
)

// OrganisationKind is what an organisation is.
type OrganisationKind string

const (
	OrgFranceServices OrganisationKind = "france_services"
	OrgCCAS           OrganisationKind = "ccas"         // centre communal d'action sociale
	OrgMJPMService    OrganisationKind = "mjpm_service" // service mandataire judiciaire à la protection des majeurs
	OrgOther          OrganisationKind = "other"
)

// OrganisationKinds lists the kinds an operator chooses from.
var OrganisationKinds = []OrganisationKind{OrgFranceServices, OrgCCAS, OrgMJPMService, OrgOther}

// Organisation is a structure whose members act for people: a France
// Services desk and its aidants, a CCAS, an MJPM service and its delegates.
type Organisation struct {
	ID   string
	Name string
	Kind OrganisationKind
	// Areas limits the procedure areas its members may act in; empty: all.
	Areas []Area
	// Address is where its letters go. Required for a new organisation
	// (Service.CreateOrganisation); empty for one recorded before
	// organisations had an address.
	Address Address
	// SIRET is the establishment's number (14 digits, ValidSIRET), by
	// which a professional logging in through ProConnect is matched to
	// their membership; empty when not given.
	SIRET     string
	CreatedBy string // the operator
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Covers says whether the organisation may act in area a.
func (o *Organisation) Covers(a Area) bool { return covers(o.Areas, a) }

// Validate reports the first field that breaks a rule.
func (o *Organisation) Validate() error {
	switch {
	case !IsID(o.ID):
		return invalid("id", RuleFormat)
	}
	if err := checkText("name", o.Name, 200, true); err != nil {
		return err
	}
	ok := false
	for _, k := range OrganisationKinds {
		ok = ok || k == o.Kind
	}
	if !ok {
		return invalid("kind", RuleUnknown)
	}
	if o.SIRET != "" && !ValidSIRET(o.SIRET) {
		return invalid("siret", RuleFormat)
	}
	for _, f := range []struct{ name, v string }{{"address_street", o.Address.Street}, {"address_postal_code", o.Address.PostalCode},
		{"address_locality", o.Address.Locality}, {"address_country", o.Address.Country}} {
		if err := checkText(f.name, f.v, 200, false); err != nil {
			return err
		}
	}
	return CheckAreas("procedure_areas", o.Areas)
}

// MemberRole is what a member does in an organisation.
type MemberRole string

const (
	MemberAdmin  MemberRole = "admin"  // habilitates and withdraws aidants
	MemberAidant MemberRole = "aidant" // acts under the organisation's mandates
)

// Membership is a person's habilitation in an organisation. A withdrawn
// member can no longer act under any of the organisation's mandates; the
// mandates stay with the organisation.
type Membership struct {
	OrganisationID string
	PersonID       string
	Role           MemberRole
	Active         bool
	HabilitatedBy  string
	HabilitatedAt  time.Time
	WithdrawnBy    string
	WithdrawnAt    time.Time
	Version        int64
}

// CanAct says whether the member may act for people.
func (m Membership) CanAct() bool { return m.Active && m.Role == MemberAidant }

// Validate reports the first field that breaks a rule.
func (m *Membership) Validate() error {
	switch {
	case !IsID(m.OrganisationID):
		return invalid("organisation", RuleFormat)
	case !IsID(m.PersonID):
		return invalid("person", RuleFormat)
	case m.Role != MemberAdmin && m.Role != MemberAidant:
		return invalid("role", RuleUnknown)
	case m.HabilitatedAt.IsZero():
		return invalid("habilitated_at", RuleRequired)
	case !m.Active && m.WithdrawnAt.IsZero():
		return invalid("withdrawn_at", RuleRequired)
	}
	return nil
}

// StaffRole is a back-office role held by a person.
type StaffRole string

// RoleOperator registers court measures and creates organisations.
const RoleOperator StaffRole = "operator"
