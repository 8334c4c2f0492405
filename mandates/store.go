package mandates

import (
	"context"
	"time"
)

// RepresentationStore keeps representations and their history.
//
// CreateRepresentation writes r (Version 1) and its first history entry in
// one transaction; it refuses a taken id, and a second representation of
// the same court decision (Source.Decision.Key()) for the same
// representative, with a *UniqueError (Entity "representation", Field
// "decision").
//
// UpdateRepresentation reads the current record, runs fn on it inside one
// transaction, and saves what fn left with Version+1 and the Change fn
// returned appended to the history (its Seq set by the store). When fn
// fails nothing changes. A concurrent writer makes it fail with
// ErrConflict rather than lose either change. A change of ValidUntil
// clears the record of an expiry (ExpiryStore): a measure whose end an
// operator moves expires, and is recorded, again at its new end.
type RepresentationStore interface {
	CreateRepresentation(ctx context.Context, r Representation, first Change) error
	Representation(ctx context.Context, id string) (Representation, error)
	UpdateRepresentation(ctx context.Context, id string, fn func(*Representation) (Change, error)) (Representation, error)
	// RepresentationsOf lists the representations of the represented
	// person, newest first, without history.
	RepresentationsOf(ctx context.Context, personID string) ([]Representation, error)
	// RepresentationsBy lists those held by the person in their own name
	// or by one of the organisations, newest first, without history.
	RepresentationsBy(ctx context.Context, personID string, organisationIDs []string) ([]Representation, error)
	// SearchMeasures finds court measures (kinds where IsMeasure) by the
	// represented person's name or email, or by the decision's reference;
	// an empty query lists the latest. At most limit, newest first.
	SearchMeasures(ctx context.Context, query string, limit int) ([]Representation, error)
	// DecisionRegistered says whether any representation rests on the
	// decision with this key.
	DecisionRegistered(ctx context.Context, key string) (bool, error)
	// RepresentationsByDecision lists, newest first, the representations
	// that rest on the decision with this key (CourtDecision.Key): one per
	// representative the decision names.
	RepresentationsByDecision(ctx context.Context, key string) ([]Representation, error)
}

// ExpiryStore finds the representations whose end date has passed and
// records, once, that it did. The stored status does not change: the
// status follows the clock at every reading (EffectiveStatus), and a
// marker beside it says the expiry is in the history and the journal.
type ExpiryStore interface {
	// ExpiriesDue lists, at most limit, soonest end first, without
	// history, the representations in force as stored (active or
	// suspended) whose ValidUntil is at or before now and whose expiry is
	// not recorded.
	ExpiriesDue(ctx context.Context, now time.Time, limit int) ([]Representation, error)
	// RecordExpiry, in the transaction in ctx or in its own, marks the
	// expiry of representation id recorded and appends c to its history
	// (Seq, From and To set by the store; the status stays as it is), with
	// Version+1, provided its version is still version and its expiry is
	// not recorded yet. Otherwise it changes nothing and fails with
	// ErrConflict (ErrNotFound for an unknown id). It returns the
	// representation as stored, with its history.
	RecordExpiry(ctx context.Context, id string, version int64, c Change) (Representation, error)
}

// OrganisationStore keeps organisations and their members.
//
// SaveMembership creates or replaces the membership of (OrganisationID,
// PersonID); when m.Version is not 0 it must match the stored version, or
// the save fails with ErrConflict.
type OrganisationStore interface {
	CreateOrganisation(ctx context.Context, o Organisation) error
	Organisation(ctx context.Context, id string) (Organisation, error)
	Organisations(ctx context.Context) ([]Organisation, error)
	UpdateOrganisation(ctx context.Context, id string, fn func(*Organisation) error) (Organisation, error)
	SaveMembership(ctx context.Context, m Membership) error
	Membership(ctx context.Context, organisationID, personID string) (Membership, error)
	// Members lists an organisation's members, active and withdrawn.
	Members(ctx context.Context, organisationID string) ([]Membership, error)
	// MembershipsOf lists a person's memberships, active and withdrawn.
	MembershipsOf(ctx context.Context, personID string) ([]Membership, error)
}

// FactsStore reads what a decision needs in one call, where a store can do
// it in one statement or one read transaction: every access evaluation
// asks, so the separate reads (the person's representations, the actor's
// memberships, then each organisation) would cost several round trips.
// Service.Decide uses it when the store has it. It reads the store every
// time: nothing may be cached, so a revocation stops the next evaluation.
type FactsStore interface {
	// DecisionFacts returns the representations of personID (any status,
	// newest first, without history), the organisations holding any of
	// them, and, when actorID is not empty, the actor's memberships (any
	// status): exactly what RepresentationsOf, Organisation and
	// MembershipsOf would return; with at least one membership, whether
	// the actor has a confirmed second factor (SecondFactorEnrolled).
	DecisionFacts(ctx context.Context, personID, actorID string) (Facts, error)
}

// ConsentCode is a one-time code sent to a person's phone so they can
// consent to an aidant mandate at a distance. Only its hash is stored.
type ConsentCode struct {
	RepresentationID string
	CodeHash         []byte // SHA-256 of the representation id and the code
	Attempts         int    // wrong codes so far
	SentAt           time.Time
	ExpiresAt        time.Time
	UsedAt           time.Time // zero until the right code is given
}

// ConsentCodeStore keeps the codes; one per representation, a new one
// replacing the old.
type ConsentCodeStore interface {
	SaveConsentCode(ctx context.Context, c ConsentCode) error
	ConsentCode(ctx context.Context, representationID string) (ConsentCode, error)
	// UpdateConsentCode runs fn on the stored code in one transaction.
	UpdateConsentCode(ctx context.Context, representationID string, fn func(*ConsentCode) error) (ConsentCode, error)
}

// RoleStore keeps back-office roles.
type RoleStore interface {
	GrantRole(ctx context.Context, personID string, role StaffRole) error
	RevokeRole(ctx context.Context, personID string, role StaffRole) error
	HasRole(ctx context.Context, personID string, role StaffRole) (bool, error)
}

// GuardStore holds what the rules of who may act need beside the records.
type GuardStore interface {
	// LockPerson holds the person's record until the transaction in ctx
	// ends, so two requests that check then create something for one
	// person (a mandate, a proxy, an agreement asked) run one after the
	// other and never both create it. ErrNotFound for an unknown person.
	LockPerson(ctx context.Context, personID string) error
	// SecondFactorEnrolled says whether the person has a confirmed second
	// factor: professionals act for people only with one.
	SecondFactorEnrolled(ctx context.Context, personID string) (bool, error)
}

// Store is everything the representation service needs of a store.
type Store interface {
	PersonStore
	GuardStore
	RepresentationStore
	ExpiryStore
	EndingStore
	OrganisationStore
	ConsentCodeStore
	RoleStore
	FactsStore
	CosignatureStore
	Transactor
}
