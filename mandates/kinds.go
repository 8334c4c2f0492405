package mandates

// Kind is the kind of a representation: a court measure, a mandat de
// protection future, an aidant mandate or a proxy (DESIGN.md §3).
type Kind string

const (
	Tutelle                    Kind = "tutelle"
	CuratelleSimple            Kind = "curatelle_simple"
	CuratelleRenforcee         Kind = "curatelle_renforcee"
	SauvegardeJustice          Kind = "sauvegarde_justice"
	HabilitationAssistance     Kind = "habilitation_familiale_assistance"
	HabilitationRepresentation Kind = "habilitation_familiale_representation"
	MandatProtectionFuture     Kind = "mandat_protection_future"
	AidantMandate              Kind = "aidant_mandate"
	Proxy                      Kind = "proxy"
)

// Kinds lists every kind, court measures first.
var Kinds = []Kind{Tutelle, CuratelleSimple, CuratelleRenforcee, SauvegardeJustice, HabilitationAssistance,
	HabilitationRepresentation, MandatProtectionFuture, AidantMandate, Proxy}

// IsMeasure says whether an operator registers this kind from a decision
// (a court measure, or a mandat de protection future put into effect):
// the represented person cannot withdraw it.
func (k Kind) IsMeasure() bool {
	switch k {
	case AidantMandate, Proxy:
		return false
	}
	return k.Valid()
}

// Valid says whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Role is what a representative is within the measure.
type Role string

const (
	RoleTuteur            Role = "tuteur"
	RoleCoTuteur          Role = "co_tuteur"
	RoleTuteurBiens       Role = "tuteur_biens"
	RoleTuteurPersonne    Role = "tuteur_personne"
	RoleSubrogeTuteur     Role = "subroge_tuteur"
	RoleCurateur          Role = "curateur"
	RoleCoCurateur        Role = "co_curateur"
	RoleSubrogeCurateur   Role = "subroge_curateur"
	RoleMandataireSpecial Role = "mandataire_special"
	RolePersonneHabilitee Role = "personne_habilitee"
	RoleMandataire        Role = "mandataire"
	RoleAidant            Role = "aidant"
	RoleProxyHolder       Role = "proxy_holder"
)

// RolesOf lists the roles a representative may hold under each kind. The
// policy file must give a row for each of them, and one for the person.
var RolesOf = map[Kind][]Role{
	Tutelle:                    {RoleTuteur, RoleCoTuteur, RoleTuteurBiens, RoleTuteurPersonne, RoleSubrogeTuteur},
	CuratelleSimple:            {RoleCurateur, RoleCoCurateur, RoleSubrogeCurateur},
	CuratelleRenforcee:         {RoleCurateur, RoleCoCurateur, RoleSubrogeCurateur},
	SauvegardeJustice:          {RoleMandataireSpecial},
	HabilitationAssistance:     {RolePersonneHabilitee},
	HabilitationRepresentation: {RolePersonneHabilitee},
	MandatProtectionFuture:     {RoleMandataire},
	AidantMandate:              {RoleAidant},
	Proxy:                      {RoleProxyHolder},
}

// ValidFor says whether r is a role of kind k.
func (r Role) ValidFor(k Kind) bool {
	for _, v := range RolesOf[k] {
		if v == r {
			return true
		}
	}
	return false
}

// Action is the class of an act a site asks about.
type Action string

const (
	Consult  Action = "consult"  // read the account
	Manage   Action = "manage"   // everyday administrative acts
	Dispose  Action = "dispose"  // acts of disposition
	Personal Action = "personal" // strictly personal: the person alone, always
)

// Actions lists every action class; the policy table gives the first three.
var Actions = []Action{Consult, Manage, Dispose, Personal}

// Valid says whether a is one of Actions.
func (a Action) Valid() bool {
	return a == Consult || a == Manage || a == Dispose || a == Personal
}

// Decision is the policy's answer.
type Decision string

const (
	Allowed Decision = "allowed"
	Cosign  Decision = "cosign" // needs the other party's agreement
	No      Decision = "no"
)

// Decisions lists the three answers.
var Decisions = []Decision{Allowed, Cosign, No}

// Valid says whether d is one of the three answers.
func (d Decision) Valid() bool { return d == Allowed || d == Cosign || d == No }

// rank orders decisions from the most restrictive.
func (d Decision) rank() int {
	switch d {
	case Allowed:
		return 2
	case Cosign:
		return 1
	}
	return 0
}

// Status is a representation's state. Expired is never stored: it is
// decided by the clock at every reading (EffectiveStatus).
type Status string

const (
	StatusPending        Status = "pending"         // a mandat de protection future not yet in effect
	StatusPendingConsent Status = "pending_consent" // waiting for the person's consent or the holder's acceptance
	StatusActive         Status = "active"
	StatusSuspended      Status = "suspended"
	StatusRevoked        Status = "revoked"
	StatusExpired        Status = "expired"
)

// Statuses lists every status, Expired included.
var Statuses = []Status{StatusPending, StatusPendingConsent, StatusActive, StatusSuspended, StatusRevoked, StatusExpired}

// Valid says whether s is a status a representation may be stored with.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusPendingConsent, StatusActive, StatusSuspended, StatusRevoked:
		return true
	}
	return false
}
