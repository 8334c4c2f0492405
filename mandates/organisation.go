package mandates

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
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
	Areas     []Area
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
		return invalid("id", "is not a UUID")
	case strings.TrimSpace(o.Name) == "" || len(o.Name) > 200 || !utf8.ValidString(o.Name):
		return invalid("name", "is empty or longer than 200 bytes")
	}
	ok := false
	for _, k := range OrganisationKinds {
		ok = ok || k == o.Kind
	}
	if !ok {
		return invalid("kind", fmt.Sprintf("%q is not a kind of organisation", o.Kind))
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
		return invalid("organisation", "is not an organisation id")
	case !IsID(m.PersonID):
		return invalid("person", "is not a person id")
	case m.Role != MemberAdmin && m.Role != MemberAidant:
		return invalid("role", fmt.Sprintf("%q is neither admin nor aidant", m.Role))
	case m.HabilitatedAt.IsZero():
		return invalid("habilitated_at", "is missing")
	case !m.Active && m.WithdrawnAt.IsZero():
		return invalid("withdrawn_at", "is missing for a withdrawn member")
	}
	return nil
}

// StaffRole is a back-office role held by a person.
type StaffRole string

// RoleOperator registers court measures and creates organisations.
const RoleOperator StaffRole = "operator"
