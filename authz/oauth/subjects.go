package oauth

import "context"

// SubjectStore remembers which person each pairwise subject stands for, per
// sector: a pairwise sub is an HMAC and cannot be turned back into a
// person, yet a site names people by the subs it received when it asks
// the access evaluation endpoint (or opens a co-signature) about them.
// Relais records every sub it issues.
type SubjectStore interface {
	// SaveSubject records that subject stands for personID in sector; saving
	// the same triple again is not an error.
	SaveSubject(ctx context.Context, sector, subject, personID string) error
	// SubjectPerson returns the person a subject stands for in sector, or
	// mandates.ErrNotFound.
	SubjectPerson(ctx context.Context, sector, subject string) (string, error)
	// SubjectPersons returns, in one read, the persons that two subjects
	// stand for in sector (an evaluation's actor and person), by subject; a
	// subject Relais never issued in sector is absent.
	SubjectPersons(ctx context.Context, sector, subject, other string) (map[string]string, error)
}

// SubjectLister tells which subs Relais issued in a sector: a search
// names only those people. Both stores implement it beside SubjectStore;
// without it, the search endpoints answer 404.
type SubjectLister interface {
	// IssuedSubjects returns, for each of subjects Relais recorded in
	// sector, the person it stands for; the others are absent.
	IssuedSubjects(ctx context.Context, sector string, subjects []string) (map[string]string, error)
}
