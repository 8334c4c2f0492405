package mandates

import (
	"slices"
	"time"
)

// Every store updates a record the same way: it reads the row in its
// transaction, hands it to the Apply function of its type, and writes what
// comes back with UPDATE … WHERE version = the version it read. The steps
// between the read and the write (run the caller's change on a copy,
// refuse a changed key or an invalid result, bump the version, stamp the
// history) are rules of the domain and live here, once; the stores keep
// only their SQL and their scanning.

// applyUpdate runs fn on a copy of old (clone makes it, so that fn cannot
// reach old's slices), refuses a result whose fixed fields (its key, and
// what else may never change) differ from old's, saying so in fixed, and
// validates it. A changed fixed field is an InvalidError on the field named
// fixed, with the rule RuleReadOnly.
func applyUpdate[T any](old T, clone func(T) T, fn func(*T) error, same func(a, b *T) bool, fixed string, validate func(*T) error) (T, error) {
	v := clone(old)
	if err := fn(&v); err != nil {
		return old, err
	}
	if !same(&old, &v) {
		return old, &InvalidError{Field: fixed, Rule: RuleReadOnly}
	}
	if err := validate(&v); err != nil {
		return old, err
	}
	return v, nil
}

// keep is the clone of a record without slices: a copy is the value.
func keep[T any](v T) T { return v }

// stamp is the time a store writes as updated_at: UTC, to the microsecond
// PostgreSQL keeps (SQLite's stores pass a time already to the millisecond).
func stamp(now time.Time) time.Time { return now.UTC().Truncate(time.Microsecond) }

// ApplyRepresentationUpdate is the part of
// RepresentationStore.UpdateRepresentation every store shares: it runs fn
// on a copy of old, refuses a changed id or an invalid result, stamps the
// new version, and makes fn's change the next history entry (StampChange).
func ApplyRepresentationUpdate(old Representation, fn func(*Representation) (Change, error), now time.Time) (Representation, Change, error) {
	var c Change
	r, err := applyUpdate(old, cloneRepresentation, func(r *Representation) error {
		var err error
		c, err = fn(r)
		return err
	}, func(a, b *Representation) bool { return a.ID == b.ID }, "id", (*Representation).Validate)
	if err != nil {
		return old, Change{}, err
	}
	now = stamp(now)
	r.CreatedAt, r.UpdatedAt, r.Version = old.CreatedAt, now, old.Version+1
	var last int64
	if n := len(old.History); n > 0 {
		last = old.History[n-1].Seq
	}
	if c, err = StampChange(c, last+1, old.Status, r.Status, now); err != nil {
		return old, Change{}, err
	}
	return r, c, nil
}

func cloneRepresentation(r Representation) Representation {
	r.Representative.Delegates = slices.Clone(r.Representative.Delegates)
	r.Areas, r.Granted = slices.Clone(r.Areas), slices.Clone(r.Granted)
	r.Adjustments, r.History = slices.Clone(r.Adjustments), slices.Clone(r.History)
	return r
}

// StampChange makes c the history entry seq, from one stored status to
// another; the store, not the caller, numbers entries and says what the
// status was and became. An entry without a time takes now.
func StampChange(c Change, seq int64, from, to Status, now time.Time) (Change, error) {
	if c.Type == "" {
		return c, &InvalidError{Field: "history", Rule: RuleRequired}
	}
	c.Seq, c.From, c.To = seq, from, to
	if c.At.IsZero() {
		c.At = now
	}
	return c, nil
}

// ApplyOrganisationUpdate is the part of OrganisationStore.UpdateOrganisation
// every store shares, as ApplyUpdate is for persons.
func ApplyOrganisationUpdate(old Organisation, fn func(*Organisation) error, now time.Time) (Organisation, error) {
	o, err := applyUpdate(old, func(o Organisation) Organisation { o.Areas = slices.Clone(o.Areas); return o }, fn,
		func(a, b *Organisation) bool { return a.ID == b.ID }, "id", (*Organisation).Validate)
	if err != nil {
		return old, err
	}
	if len(o.Areas) == 0 {
		o.Areas = nil // as stores read "every area" back
	}
	o.CreatedAt, o.UpdatedAt, o.Version = old.CreatedAt, stamp(now), old.Version+1
	return o, nil
}

// ApplyConsentCodeUpdate is the part of ConsentCodeStore.UpdateConsentCode
// every store shares: fn runs on a copy of old, and may change neither the
// representation nor leave a code that could never be checked.
func ApplyConsentCodeUpdate(old ConsentCode, fn func(*ConsentCode) error) (ConsentCode, error) {
	return applyUpdate(old, func(c ConsentCode) ConsentCode { c.CodeHash = slices.Clone(c.CodeHash); return c }, fn,
		func(a, b *ConsentCode) bool { return a.RepresentationID == b.RepresentationID }, "representation",
		(*ConsentCode).Validate)
}

// ApplyCosignatureUpdate is the part of CosignatureStore.UpdateCosignature
// every store shares: fn may change the request's status and dates, never
// whose act it is, by whom, at which site or under which representation.
func ApplyCosignatureUpdate(old Cosignature, fn func(*Cosignature) error) (Cosignature, error) {
	c, err := applyUpdate(old, keep, fn, func(a, b *Cosignature) bool {
		return a.ID == b.ID && a.ClientID == b.ClientID && a.PersonID == b.PersonID && a.ActorID == b.ActorID &&
			a.RepresentationID == b.RepresentationID
	}, "cosignature", (*Cosignature).Validate)
	if err != nil {
		return old, err
	}
	c.Version = old.Version + 1
	return c, nil
}

// Validate refuses a consent code that could never be checked.
func (c *ConsentCode) Validate() error {
	switch {
	case !IsID(c.RepresentationID):
		return &InvalidError{Field: "representation", Rule: RuleFormat}
	case len(c.CodeHash) == 0:
		return &InvalidError{Field: "hash", Rule: RuleRequired}
	case c.ExpiresAt.IsZero():
		return &InvalidError{Field: "expires_at", Rule: RuleRequired}
	case c.Attempts < 0:
		return &InvalidError{Field: "attempts", Rule: RuleFormat}
	}
	return nil
}
