package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// rememberSubject records the sub client c sees for personID, so the site
// can later name the person by it. Clients with public subjects see the
// local id, and it is recorded too: the search endpoints tell a site only
// of people it was given (authzen_search.go).
func (p *Provider) rememberSubject(ctx context.Context, c oauth.Client, personID string) (string, error) {
	sub := p.Subject(c, personID)
	if p.subjects == nil {
		return sub, nil
	}
	if err := p.subjects.SaveSubject(ctx, sector(c), sub, personID); err != nil {
		return "", fmt.Errorf("remember subject: %w", err)
	}
	return sub, nil
}

// PersonOf is the person that sub stands for at client c, as issued by
// Relais; mandates.ErrNotFound when Relais never gave c that sub.
func (p *Provider) PersonOf(ctx context.Context, c oauth.Client, sub string) (string, error) {
	if c.SubjectType == oauth.SubjectPublic {
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

// PersonsOf is PersonOf for an evaluation's two subs, read together: the
// actor's and the person's. A sub Relais never gave c is mandates.ErrNotFound
// wrapped in a *SubError naming which.
func (p *Provider) PersonsOf(ctx context.Context, c oauth.Client, actorSub, personSub string) (actor, person string, err error) {
	var ids map[string]string
	if c.SubjectType != oauth.SubjectPublic && p.subjects != nil {
		sec := sector(c)
		if a, ok := p.subjectPersons.get(sec, actorSub); ok {
			if b, ok := p.subjectPersons.get(sec, personSub); ok {
				return a, b, nil
			}
		}
		ids, err = p.subjects.SubjectPersons(ctx, sec, actorSub, personSub)
		if err != nil && !errors.Is(err, mandates.ErrNotFound) && !errors.Is(err, mandates.ErrInvalid) {
			return "", "", err
		}
		for sub, id := range ids {
			p.subjectPersons.put(sec, sub, id)
		}
	}
	if ids == nil {
		// Public subjects, or a sub the store cannot even look up (text
		// PostgreSQL refuses): one at a time, to say which.
		if actor, err = p.PersonOf(ctx, c, actorSub); err != nil {
			return "", "", &SubError{Actor: true, Err: err}
		}
		if person, err = p.PersonOf(ctx, c, personSub); err != nil {
			return "", "", &SubError{Err: err}
		}
		return actor, person, nil
	}
	actor, ok := ids[actorSub]
	if !ok {
		return "", "", &SubError{Actor: true, Err: fmt.Errorf("subject: %w", mandates.ErrNotFound)}
	}
	if person, ok = ids[personSub]; !ok {
		return "", "", &SubError{Err: fmt.Errorf("subject: %w", mandates.ErrNotFound)}
	}
	return actor, person, nil
}

// SubError says which of an evaluation's subs could not be resolved.
type SubError struct {
	Actor bool // the actor's sub; otherwise the person's
	Err   error
}

func (e *SubError) Error() string {
	if e.Actor {
		return "actor's sub: " + e.Err.Error()
	}
	return "person's sub: " + e.Err.Error()
}

func (e *SubError) Unwrap() error { return e.Err }

// A pairwise subject, once given, stands for the same person for ever:
// subjects and persons are never deleted, so that a site's records keep
// their meaning. An access evaluation names two; reading them was a
// seventh of an evaluation on PostgreSQL. subjectCache remembers the
// subjects read, and never a subject not found (it may be given later).
// Only the mapping is remembered: what the person may do is read at every
// evaluation.
type subjectCache struct {
	mu sync.RWMutex
	m  map[string]string // sector NUL sub -> person id
}

// maxCachedSubjects bounds the cache: an entry is two identifiers and a
// host, about 150 bytes, so at most about 5 MiB.
const maxCachedSubjects = 1 << 15

func (c *subjectCache) get(sector, sub string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.m[sector+"\x00"+sub]
	return id, ok
}

func (c *subjectCache) put(sector, sub, personID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedSubjects {
		c.m = make(map[string]string)
	}
	c.m[sector+"\x00"+sub] = personID
}
