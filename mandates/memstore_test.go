package mandates

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// memStore is the whole Store in memory, for the service's unit tests. It
// keeps the contract the store suite (storage/storagetest) checks on the
// real stores, as far as the rules under test can see it:
//
//   - a transaction (InTx) commits every write made with its ctx, or none:
//     when fn fails, the records and the events emitted in it are put back;
//     an InTx inside another joins it, as the stores' transactions do;
//   - records are copied in and out, so a caller never changes what is
//     stored by changing what it read;
//   - a taken id, email or decision is a *UniqueError; an unknown key is
//     ErrNotFound; an update whose record changed meanwhile (see
//     interleave) is ErrConflict, and a membership saved with a stale
//     version too;
//   - updates validate what fn left, refuse a changed id, bump the version
//     and append the change to the history with its Seq, From and To.
//
// It is also the event sink (events) and the code sender (sent), so that a
// test reads everything a call did in one place. failOn makes a method
// fail, to check that the service passes a store's failure on unchanged.
type memStore struct {
	now func() time.Time

	persons   map[string]Person
	reps      map[string]Representation
	expired   map[string]bool      // representation id: its expiry is recorded
	announced map[string]time.Time // representation id: the end last announced (EndingStore)
	orgs      map[string]Organisation
	members   map[[2]string]Membership // organisation id, person id
	codes     map[string]ConsentCode
	roles     map[string][]StaffRole
	cosigns   map[string]Cosignature
	twoFactor map[string]bool // person id: a confirmed second factor
	locked    []string        // LockPerson calls, in order
	events    []Event         // emitted, committed or in the open transaction

	// fail makes the named method (and InTx, Emit, SendConsentCode)
	// return its error.
	fail map[string]error
	// interleave, when set, runs once inside the next update of a
	// representation or a co-signature, after fn and before the write: a
	// concurrent writer, whose change makes the update fail with
	// ErrConflict.
	interleave func(m *memStore)
	// sent are the codes sent to phones, by person id.
	sent map[string][]string
	// calls counts the calls of each method (those failOn can fail).
	calls map[string]int
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, persons: map[string]Person{}, reps: map[string]Representation{}, expired: map[string]bool{},
		announced: map[string]time.Time{},
		orgs:      map[string]Organisation{}, members: map[[2]string]Membership{}, codes: map[string]ConsentCode{},
		roles: map[string][]StaffRole{}, cosigns: map[string]Cosignature{}, twoFactor: map[string]bool{}, fail: map[string]error{},
		sent: map[string][]string{}, calls: map[string]int{}}
}

var _ Store = (*memStore)(nil)

// failOn makes method fail with err from now on (nil: succeed again).
func (m *memStore) failOn(method string, err error) {
	if err == nil {
		delete(m.fail, method)
		return
	}
	m.fail[method] = err
}

func (m *memStore) failed(method string) error {
	m.calls[method]++
	if err := m.fail[method]; err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return nil
}

func (m *memStore) stamp() time.Time { return m.now().UTC().Truncate(time.Millisecond) }

// Copies, so that nothing read aliases what is stored.

func cloneRep(r Representation) Representation {
	r.Representative.Delegates = slices.Clone(r.Representative.Delegates)
	r.Areas, r.Granted, r.Adjustments = slices.Clone(r.Areas), slices.Clone(r.Granted), slices.Clone(r.Adjustments)
	if d := r.Source.Decision; d != nil {
		c := *d
		r.Source.Decision = &c
	}
	if c := r.Source.Consent; c != nil {
		cc := *c
		r.Source.Consent = &cc
	}
	if u := r.Source.Measure; u != nil {
		uu := *u
		r.Source.Measure = &uu
	}
	h := make([]Change, len(r.History))
	for i, c := range r.History {
		c.Detail = maps.Clone(c.Detail)
		h[i] = c
	}
	if r.History == nil {
		h = nil
	}
	r.History = h
	return r
}

func cloneOrg(o Organisation) Organisation {
	o.Areas = slices.Clone(o.Areas)
	return o
}

func cloneEvent(e Event) Event {
	e.Areas, e.Detail = slices.Clone(e.Areas), maps.Clone(e.Detail)
	return e
}

// Transactor.

type memTxKey struct{}

func (m *memStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := m.failed("InTx"); err != nil {
		return err
	}
	if ctx.Value(memTxKey{}) != nil {
		return fn(ctx) // joins the transaction in ctx
	}
	saved := m.snapshot()
	if err := fn(context.WithValue(ctx, memTxKey{}, true)); err != nil {
		m.restore(saved)
		return err
	}
	return nil
}

type memSnapshot struct {
	persons   map[string]Person
	reps      map[string]Representation
	expired   map[string]bool
	announced map[string]time.Time
	orgs      map[string]Organisation
	members   map[[2]string]Membership
	codes     map[string]ConsentCode
	roles     map[string][]StaffRole
	cosigns   map[string]Cosignature
	events    int
}

func (m *memStore) snapshot() memSnapshot {
	reps := make(map[string]Representation, len(m.reps))
	for id, r := range m.reps {
		reps[id] = cloneRep(r)
	}
	orgs := make(map[string]Organisation, len(m.orgs))
	for id, o := range m.orgs {
		orgs[id] = cloneOrg(o)
	}
	roles := make(map[string][]StaffRole, len(m.roles))
	for id, rs := range m.roles {
		roles[id] = slices.Clone(rs)
	}
	return memSnapshot{persons: maps.Clone(m.persons), reps: reps, expired: maps.Clone(m.expired), announced: maps.Clone(m.announced), orgs: orgs,
		members: maps.Clone(m.members), codes: maps.Clone(m.codes), roles: roles, cosigns: maps.Clone(m.cosigns), events: len(m.events)}
}

func (m *memStore) restore(s memSnapshot) {
	m.persons, m.reps, m.expired, m.orgs = s.persons, s.reps, s.expired, s.orgs
	m.announced = s.announced
	m.members, m.codes, m.roles, m.cosigns = s.members, s.codes, s.roles, s.cosigns
	m.events = m.events[:s.events]
}

// EventSink: events are kept with the transaction they were emitted in.

func (m *memStore) Emit(_ context.Context, e Event) error {
	if err := m.failed("Emit"); err != nil {
		return err
	}
	m.events = append(m.events, cloneEvent(e))
	return nil
}

// eventTypes lists the types of the events kept, in order.
func (m *memStore) eventTypes() []EventType {
	out := make([]EventType, len(m.events))
	for i, e := range m.events {
		out[i] = e.Type
	}
	return out
}

// CodeSender.

func (m *memStore) SendConsentCode(_ context.Context, to Person, code string) error {
	if err := m.failed("SendConsentCode"); err != nil {
		return err
	}
	m.sent[to.ID] = append(m.sent[to.ID], code)
	return nil
}

// PersonStore.

func (m *memStore) CreatePerson(_ context.Context, p Person) error {
	if err := m.failed("CreatePerson"); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if _, ok := m.persons[p.ID]; ok {
		return &UniqueError{Entity: "person", Field: "id"}
	}
	for _, o := range m.persons {
		if p.Email != "" && EmailKey(o.Email) == EmailKey(p.Email) {
			return &UniqueError{Entity: "person", Field: "email"}
		}
	}
	now := m.stamp()
	p.CreatedAt, p.UpdatedAt, p.Version = now, now, 1
	m.persons[p.ID] = p
	return nil
}

func (m *memStore) Person(_ context.Context, id string) (Person, error) {
	if err := m.failed("Person"); err != nil {
		return Person{}, err
	}
	p, ok := m.persons[id]
	if !ok {
		return Person{}, fmt.Errorf("person %s: %w", id, ErrNotFound)
	}
	return p, nil
}

func (m *memStore) PersonByEmail(_ context.Context, email string) (Person, error) {
	if err := m.failed("PersonByEmail"); err != nil {
		return Person{}, err
	}
	for _, p := range m.persons {
		if p.Email != "" && EmailKey(p.Email) == EmailKey(email) {
			return p, nil
		}
	}
	return Person{}, fmt.Errorf("person by email: %w", ErrNotFound)
}

func (m *memStore) UpdatePerson(_ context.Context, id string, fn func(*Person) error) (Person, error) {
	if err := m.failed("UpdatePerson"); err != nil {
		return Person{}, err
	}
	old, ok := m.persons[id]
	if !ok {
		return Person{}, fmt.Errorf("update person %s: %w", id, ErrNotFound)
	}
	p, err := ApplyUpdate(old, fn, m.stamp())
	if err != nil {
		return old, err
	}
	for oid, o := range m.persons {
		if oid != id && p.Email != "" && EmailKey(o.Email) == EmailKey(p.Email) {
			return old, &UniqueError{Entity: "person", Field: "email"}
		}
	}
	m.persons[id] = p
	return p, nil
}

// GuardStore.

func (m *memStore) LockPerson(_ context.Context, personID string) error {
	if err := m.failed("LockPerson"); err != nil {
		return err
	}
	if _, ok := m.persons[personID]; !ok {
		return fmt.Errorf("lock person %s: %w", personID, ErrNotFound)
	}
	m.locked = append(m.locked, personID)
	return nil
}

func (m *memStore) SecondFactorEnrolled(_ context.Context, personID string) (bool, error) {
	if err := m.failed("SecondFactorEnrolled"); err != nil {
		return false, err
	}
	return m.twoFactor[personID], nil
}

// RepresentationStore.

func (m *memStore) CreateRepresentation(_ context.Context, r Representation, first Change) error {
	if err := m.failed("CreateRepresentation"); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if first.Type == "" {
		return fmt.Errorf("%w: history entry has no type", ErrInvalid)
	}
	if _, ok := m.reps[r.ID]; ok {
		return &UniqueError{Entity: "representation", Field: "id"}
	}
	if d := r.Source.Decision; d != nil {
		for _, o := range m.reps {
			if o.Source.Decision != nil && o.Source.Decision.Key() == d.Key() &&
				o.Representative.PersonID == r.Representative.PersonID && o.Representative.OrganisationID == r.Representative.OrganisationID {
				return &UniqueError{Entity: "representation", Field: "decision"}
			}
		}
	}
	now := m.stamp()
	r.CreatedAt, r.UpdatedAt, r.Version = now, now, 1
	first.Seq, first.From, first.To = 1, "", r.Status
	if first.At.IsZero() {
		first.At = now
	}
	r.History = []Change{first}
	m.reps[r.ID] = cloneRep(r)
	return nil
}

func (m *memStore) Representation(_ context.Context, id string) (Representation, error) {
	if err := m.failed("Representation"); err != nil {
		return Representation{}, err
	}
	r, ok := m.reps[id]
	if !ok {
		return Representation{}, fmt.Errorf("representation %s: %w", id, ErrNotFound)
	}
	return cloneRep(r), nil
}

// conflicted runs interleave, once, and says whether the record it
// changed is no longer at version.
func (m *memStore) conflicted(version func() int64, was int64) bool {
	if f := m.interleave; f != nil {
		m.interleave = nil
		f(m)
	}
	return version() != was
}

func (m *memStore) UpdateRepresentation(_ context.Context, id string, fn func(*Representation) (Change, error)) (Representation, error) {
	if err := m.failed("UpdateRepresentation"); err != nil {
		return Representation{}, err
	}
	stored, ok := m.reps[id]
	if !ok {
		return Representation{}, fmt.Errorf("update representation %s: %w", id, ErrNotFound)
	}
	old := cloneRep(stored)
	r, c, err := ApplyRepresentationUpdate(old, fn, m.stamp())
	if err != nil {
		return Representation{}, fmt.Errorf("update representation %s: %w", id, err)
	}
	if m.conflicted(func() int64 { return m.reps[id].Version }, old.Version) {
		return Representation{}, fmt.Errorf("update representation %s: %w", id, ErrConflict)
	}
	if d := r.Source.Decision; d != nil {
		// The stores' unique index: one decision names a representative once.
		for _, o := range m.reps {
			if o.ID != id && o.Source.Decision != nil && o.Source.Decision.Key() == d.Key() &&
				o.Representative.PersonID == r.Representative.PersonID && o.Representative.OrganisationID == r.Representative.OrganisationID {
				return Representation{}, fmt.Errorf("update representation %s: %w", id, &UniqueError{Entity: "representation", Field: "decision"})
			}
		}
	}
	r.History = append(old.History, c)
	if !r.ValidUntil.Equal(old.ValidUntil) {
		delete(m.expired, id) // a new end is a new expiry to record
	}
	m.reps[id] = cloneRep(r)
	return cloneRep(r), nil
}

// listed is reps without history, newest first.
func listed(reps []Representation) []Representation {
	out := make([]Representation, len(reps))
	for i, r := range reps {
		r = cloneRep(r)
		r.History = nil
		out[i] = r
	}
	slices.SortFunc(out, func(a, b Representation) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

func (m *memStore) where(keep func(r *Representation) bool) []Representation {
	var out []Representation
	for _, r := range m.reps {
		if keep(&r) {
			out = append(out, r)
		}
	}
	return listed(out)
}

func (m *memStore) RepresentationsOf(_ context.Context, personID string) ([]Representation, error) {
	if err := m.failed("RepresentationsOf"); err != nil {
		return nil, err
	}
	return m.where(func(r *Representation) bool { return r.PersonID == personID }), nil
}

func (m *memStore) RepresentationsBy(_ context.Context, personID string, organisationIDs []string) ([]Representation, error) {
	if err := m.failed("RepresentationsBy"); err != nil {
		return nil, err
	}
	return m.where(func(r *Representation) bool {
		rep := r.Representative
		return (personID != "" && rep.PersonID == personID) || (rep.OrganisationID != "" && slices.Contains(organisationIDs, rep.OrganisationID))
	}), nil
}

func (m *memStore) SearchMeasures(_ context.Context, query string, limit int) ([]Representation, error) {
	if err := m.failed("SearchMeasures"); err != nil {
		return nil, err
	}
	needle := strings.ToLower(strings.TrimSpace(query))
	out := m.where(func(r *Representation) bool {
		if !r.Kind.IsMeasure() {
			return false
		}
		p := m.persons[r.PersonID]
		for _, f := range []string{p.GivenNames, p.FamilyName, p.PreferredName, p.Email, r.Source.Decision.Reference} {
			if strings.Contains(strings.ToLower(f), needle) {
				return true
			}
		}
		return false
	})
	return out[:min(limit, len(out))], nil
}

func (m *memStore) DecisionRegistered(_ context.Context, key string) (bool, error) {
	if err := m.failed("DecisionRegistered"); err != nil {
		return false, err
	}
	for _, r := range m.reps {
		if r.Source.Decision != nil && r.Source.Decision.Key() == key {
			return true, nil
		}
	}
	return false, nil
}

func (m *memStore) RepresentationsByDecision(_ context.Context, key string) ([]Representation, error) {
	if err := m.failed("RepresentationsByDecision"); err != nil {
		return nil, err
	}
	return m.where(func(r *Representation) bool {
		return r.Source.Decision != nil && r.Source.Decision.Key() == key
	}), nil
}

// ExpiryStore.

func (m *memStore) ExpiriesDue(_ context.Context, now time.Time, limit int) ([]Representation, error) {
	if err := m.failed("ExpiriesDue"); err != nil {
		return nil, err
	}
	out := m.where(func(r *Representation) bool {
		return (r.Status == StatusActive || r.Status == StatusSuspended) && !r.ValidUntil.IsZero() && !r.ValidUntil.After(now) && !m.expired[r.ID]
	})
	slices.SortFunc(out, func(a, b Representation) int { return a.ValidUntil.Compare(b.ValidUntil) })
	return out[:min(limit, len(out))], nil
}

func (m *memStore) RecordExpiry(_ context.Context, id string, version int64, c Change) (Representation, error) {
	if err := m.failed("RecordExpiry"); err != nil {
		return Representation{}, err
	}
	r, ok := m.reps[id]
	switch {
	case !ok:
		return Representation{}, fmt.Errorf("record expiry %s: %w", id, ErrNotFound)
	case r.Version != version || m.expired[id]:
		return Representation{}, fmt.Errorf("record expiry %s: %w", id, ErrConflict)
	}
	r = cloneRep(r)
	c.Seq, c.From, c.To = int64(len(r.History))+1, r.Status, r.Status
	r.History = append(r.History, c)
	r.Version++
	r.UpdatedAt = m.stamp()
	m.reps[id] = r
	m.expired[id] = true
	return cloneRep(r), nil
}

// OrganisationStore.

func (m *memStore) CreateOrganisation(_ context.Context, o Organisation) error {
	if err := m.failed("CreateOrganisation"); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if _, ok := m.orgs[o.ID]; ok {
		return &UniqueError{Entity: "organisation", Field: "id"}
	}
	now := m.stamp()
	o.CreatedAt, o.UpdatedAt, o.Version = now, now, 1
	m.orgs[o.ID] = cloneOrg(o)
	return nil
}

func (m *memStore) Organisation(_ context.Context, id string) (Organisation, error) {
	if err := m.failed("Organisation"); err != nil {
		return Organisation{}, err
	}
	o, ok := m.orgs[id]
	if !ok {
		return Organisation{}, fmt.Errorf("organisation %s: %w", id, ErrNotFound)
	}
	return cloneOrg(o), nil
}

func (m *memStore) Organisations(_ context.Context) ([]Organisation, error) {
	if err := m.failed("Organisations"); err != nil {
		return nil, err
	}
	var out []Organisation
	for _, o := range m.orgs {
		out = append(out, cloneOrg(o))
	}
	slices.SortFunc(out, func(a, b Organisation) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (m *memStore) UpdateOrganisation(_ context.Context, id string, fn func(*Organisation) error) (Organisation, error) {
	if err := m.failed("UpdateOrganisation"); err != nil {
		return Organisation{}, err
	}
	old, ok := m.orgs[id]
	if !ok {
		return Organisation{}, fmt.Errorf("update organisation %s: %w", id, ErrNotFound)
	}
	o, err := ApplyOrganisationUpdate(cloneOrg(old), fn, m.stamp())
	if err != nil {
		return Organisation{}, err
	}
	m.orgs[id] = cloneOrg(o)
	return cloneOrg(o), nil
}

func (m *memStore) SaveMembership(_ context.Context, ms Membership) error {
	if err := m.failed("SaveMembership"); err != nil {
		return err
	}
	if err := ms.Validate(); err != nil {
		return err
	}
	key := [2]string{ms.OrganisationID, ms.PersonID}
	old, ok := m.members[key]
	switch {
	case ms.Version != 0 && (!ok || old.Version != ms.Version):
		return fmt.Errorf("save membership: %w", ErrConflict)
	case ok:
		ms.Version = old.Version + 1
	default:
		ms.Version = 1
	}
	m.members[key] = ms
	return nil
}

func (m *memStore) Membership(_ context.Context, organisationID, personID string) (Membership, error) {
	if err := m.failed("Membership"); err != nil {
		return Membership{}, err
	}
	ms, ok := m.members[[2]string{organisationID, personID}]
	if !ok {
		return Membership{}, fmt.Errorf("membership: %w", ErrNotFound)
	}
	return ms, nil
}

func (m *memStore) memberships(keep func(Membership) bool) []Membership {
	var out []Membership
	for _, ms := range m.members {
		if keep(ms) {
			out = append(out, ms)
		}
	}
	slices.SortFunc(out, func(a, b Membership) int {
		if c := a.HabilitatedAt.Compare(b.HabilitatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.OrganisationID+a.PersonID, b.OrganisationID+b.PersonID)
	})
	return out
}

func (m *memStore) Members(_ context.Context, organisationID string) ([]Membership, error) {
	if err := m.failed("Members"); err != nil {
		return nil, err
	}
	return m.memberships(func(ms Membership) bool { return ms.OrganisationID == organisationID }), nil
}

func (m *memStore) MembershipsOf(_ context.Context, personID string) ([]Membership, error) {
	if err := m.failed("MembershipsOf"); err != nil {
		return nil, err
	}
	return m.memberships(func(ms Membership) bool { return ms.PersonID == personID }), nil
}

// FactsStore.

func (m *memStore) DecisionFacts(ctx context.Context, personID, actorID string) (Facts, error) {
	if err := m.failed("DecisionFacts"); err != nil {
		return Facts{}, err
	}
	f := Facts{Representations: m.where(func(r *Representation) bool { return r.PersonID == personID }), Organisations: map[string]Organisation{}}
	for _, r := range f.Representations {
		if id := r.Representative.OrganisationID; id != "" {
			if o, ok := m.orgs[id]; ok {
				f.Organisations[id] = cloneOrg(o)
			}
		}
	}
	if actorID != "" {
		f.Memberships = m.memberships(func(ms Membership) bool { return ms.PersonID == actorID })
		f.ActorSecondFactor = len(f.Memberships) > 0 && m.twoFactor[actorID]
	}
	return f, nil
}

// ConsentCodeStore.

func (m *memStore) SaveConsentCode(_ context.Context, c ConsentCode) error {
	if err := m.failed("SaveConsentCode"); err != nil {
		return err
	}
	if _, ok := m.reps[c.RepresentationID]; !ok {
		return fmt.Errorf("%w: refers to a record that does not exist", ErrInvalid)
	}
	c.CodeHash = slices.Clone(c.CodeHash)
	m.codes[c.RepresentationID] = c
	return nil
}

func (m *memStore) ConsentCode(_ context.Context, representationID string) (ConsentCode, error) {
	if err := m.failed("ConsentCode"); err != nil {
		return ConsentCode{}, err
	}
	c, ok := m.codes[representationID]
	if !ok {
		return ConsentCode{}, fmt.Errorf("consent code: %w", ErrNotFound)
	}
	return c, nil
}

func (m *memStore) UpdateConsentCode(_ context.Context, representationID string, fn func(*ConsentCode) error) (ConsentCode, error) {
	if err := m.failed("UpdateConsentCode"); err != nil {
		return ConsentCode{}, err
	}
	old, ok := m.codes[representationID]
	if !ok {
		return ConsentCode{}, fmt.Errorf("update consent code: %w", ErrNotFound)
	}
	c, err := ApplyConsentCodeUpdate(old, fn)
	if err != nil {
		return ConsentCode{}, err
	}
	m.codes[representationID] = c
	return c, nil
}

// RoleStore.

func (m *memStore) GrantRole(_ context.Context, personID string, role StaffRole) error {
	if err := m.failed("GrantRole"); err != nil {
		return err
	}
	if role == "" {
		return fmt.Errorf("grant role: %w: no role", ErrInvalid)
	}
	if !slices.Contains(m.roles[personID], role) {
		m.roles[personID] = append(m.roles[personID], role)
	}
	return nil
}

func (m *memStore) RevokeRole(_ context.Context, personID string, role StaffRole) error {
	if err := m.failed("RevokeRole"); err != nil {
		return err
	}
	m.roles[personID] = slices.DeleteFunc(m.roles[personID], func(r StaffRole) bool { return r == role })
	return nil
}

func (m *memStore) HasRole(_ context.Context, personID string, role StaffRole) (bool, error) {
	if err := m.failed("HasRole"); err != nil {
		return false, err
	}
	return slices.Contains(m.roles[personID], role), nil
}

// CosignatureStore.

func (m *memStore) CreateCosignature(_ context.Context, c Cosignature) error {
	if err := m.failed("CreateCosignature"); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if _, ok := m.cosigns[c.ID]; ok {
		return &UniqueError{Entity: "cosignature", Field: "id"}
	}
	c.Version = 1
	m.cosigns[c.ID] = c
	return nil
}

func (m *memStore) Cosignature(_ context.Context, id string) (Cosignature, error) {
	if err := m.failed("Cosignature"); err != nil {
		return Cosignature{}, err
	}
	c, ok := m.cosigns[id]
	if !ok {
		return Cosignature{}, fmt.Errorf("co-signature %s: %w", id, ErrNotFound)
	}
	return c, nil
}

func (m *memStore) UpdateCosignature(_ context.Context, id string, fn func(*Cosignature) error) (Cosignature, error) {
	if err := m.failed("UpdateCosignature"); err != nil {
		return Cosignature{}, err
	}
	old, ok := m.cosigns[id]
	if !ok {
		return Cosignature{}, fmt.Errorf("update co-signature %s: %w", id, ErrNotFound)
	}
	c, err := ApplyCosignatureUpdate(old, fn)
	if err != nil {
		return Cosignature{}, err
	}
	if m.conflicted(func() int64 { return m.cosigns[id].Version }, old.Version) {
		return Cosignature{}, fmt.Errorf("update co-signature %s: %w", id, ErrConflict)
	}
	m.cosigns[id] = c
	return c, nil
}

func (m *memStore) CosignaturesAwaiting(_ context.Context, personID string, representationIDs []string) ([]Cosignature, error) {
	if err := m.failed("CosignaturesAwaiting"); err != nil {
		return nil, err
	}
	var out []Cosignature
	for _, c := range m.cosigns {
		if c.Status == CosignPending && ((c.Party == PartyPerson && c.PersonID == personID) ||
			(c.Party == PartyRepresentative && slices.Contains(representationIDs, c.RepresentationID))) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Cosignature) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, nil
}

// memNamer names, for a search, the people it was given.
type memNamer map[string]string

func (n memNamer) Names(_ context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if name, ok := n[id]; ok {
			out[id] = name
		}
	}
	return out, nil
}

// memWorld is a Service over a memStore with a clock the test moves, and
// the people most tests need: an operator and a protected person.
type memWorld struct {
	t     testing.TB
	ctx   context.Context
	clock time.Time
	st    *memStore
	svc   *Service
	op    Actor  // holds the operator role
	jane  string // a person, with a phone and an email
	n     int    // people made so far
}

// newMemWorld builds the world, whose store is also its event sink;
// cfg's Now and Codes are the world's unless set.
func newMemWorld(t testing.TB, cfg ServiceConfig) *memWorld {
	w := &memWorld{t: t, ctx: context.Background(), clock: time.Date(2027, 3, 3, 9, 30, 0, 0, time.UTC)}
	w.st = newMemStore(func() time.Time { return w.clock })
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return w.clock }
	}
	if cfg.Codes == nil {
		cfg.Codes = w.st
	}
	w.svc = NewService(w.st, w.st, cfg)
	w.op = Actor{PersonID: w.person("Odile", "Opérateur")}
	if err := w.st.GrantRole(w.ctx, w.op.PersonID, RoleOperator); err != nil {
		t.Fatal(err)
	}
	w.jane = w.person("Jeanne", "Lefèvre")
	return w
}

// advance moves the clock.
func (w *memWorld) advance(d time.Duration) { w.clock = w.clock.Add(d) }

// person creates an account and returns its id.
func (w *memWorld) person(given, family string) string {
	w.t.Helper()
	w.n++
	p := Person{ID: NewID(w.clock), GivenNames: given, FamilyName: family, BirthDate: Date(1950+w.n, 4, 12),
		Email: fmt.Sprintf("p%d@example.fr", w.n), Phone: fmt.Sprintf("06 12 34 56 %02d", w.n)}
	if err := w.st.CreatePerson(w.ctx, p); err != nil {
		w.t.Fatal(err)
	}
	return p.ID
}

// org creates an organisation acting in areas (none: every area) and
// returns its id.
func (w *memWorld) org(name string, areas ...Area) string {
	w.t.Helper()
	o := Organisation{ID: NewID(w.clock), Name: name, Kind: OrgFranceServices, Areas: areas, CreatedBy: w.op.PersonID}
	if err := w.st.CreateOrganisation(w.ctx, o); err != nil {
		w.t.Fatal(err)
	}
	return o.ID
}

// member makes personID an active member of orgID, with a confirmed
// second factor when twoFactor, and returns them as an actor who logged
// in with it.
func (w *memWorld) member(orgID, personID string, role MemberRole, twoFactor bool) Actor {
	w.t.Helper()
	m := Membership{OrganisationID: orgID, PersonID: personID, Role: role, Active: true, HabilitatedBy: w.op.PersonID, HabilitatedAt: w.clock}
	if err := w.st.SaveMembership(w.ctx, m); err != nil {
		w.t.Fatal(err)
	}
	w.st.twoFactor[personID] = twoFactor
	return Actor{PersonID: personID, SecondFactor: twoFactor}
}

// measureInput is a decision of kind k over personID naming one
// representative, a person, in role, for a year from a day ago.
func (w *memWorld) measureInput(k Kind, personID, repID string, role Role) MeasureInput {
	in := MeasureInput{Kind: k, PersonID: personID, Representatives: []RepresentativeInput{{PersonID: repID, Role: role}},
		ValidFrom: w.clock.AddDate(0, 0, -1), ValidUntil: w.clock.AddDate(1, 0, 0),
		Decision: CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: w.clock.AddDate(0, 0, -10), Reference: "RG " + NewID(w.clock)[24:]}}
	if k == MandatProtectionFuture {
		in.ValidUntil = time.Time{}
	}
	if k == SauvegardeJustice {
		in.Adjustments = []Adjustment{{Party: PartyRepresentative, Area: "logement", Action: Manage, Decision: Allowed}}
	}
	return in
}

// measure registers a measure of kind k over personID, held by repID.
func (w *memWorld) measure(k Kind, personID, repID string, role Role) Representation {
	w.t.Helper()
	reps, err := w.svc.RegisterMeasure(w.ctx, w.op, w.measureInput(k, personID, repID, role))
	if err != nil {
		w.t.Fatal(err)
	}
	return reps[0]
}

// stored reads a representation as stored.
func (w *memWorld) stored(id string) Representation {
	w.t.Helper()
	r, err := w.st.Representation(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}
