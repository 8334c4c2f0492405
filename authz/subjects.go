package authz

import (
	"context"
	"fmt"
)

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
}

// rememberSubject records the sub client c sees for personID, so the site
// can later name the person by it. Clients with public subjects see the
// local id and need no record.
func (p *Provider) rememberSubject(ctx context.Context, c Client, personID string) (string, error) {
	sub := p.Subject(c, personID)
	if c.SubjectType == SubjectPublic || p.subjects == nil {
		return sub, nil
	}
	if err := p.subjects.SaveSubject(ctx, sector(c), sub, personID); err != nil {
		return "", fmt.Errorf("remember subject: %w", err)
	}
	return sub, nil
}

// PersonOf is the person that sub stands for at client c, as issued by
// Relais; mandates.ErrNotFound when Relais never gave c that sub.
func (p *Provider) PersonOf(ctx context.Context, c Client, sub string) (string, error) {
	if c.SubjectType == SubjectPublic {
		if _, err := p.persons.Person(ctx, sub); err != nil {
			return "", err
		}
		return sub, nil
	}
	if p.subjects == nil {
		return "", fmt.Errorf("authz: no subject store")
	}
	return p.subjects.SubjectPerson(ctx, sector(c), sub)
}
