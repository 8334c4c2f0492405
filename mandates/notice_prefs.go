package mandates

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Who chooses how a person receives the notices about their rights
// (issue 15, point 3: « Comment je reçois mes courriers »).
//
//   - The person themselves, always, whatever measure is over them: being
//     told of what happens to one's rights is the person's own, and a tutor
//     cannot take it away. The confirmation of a new channel is always
//     sent on paper too (package notices), so someone who took over the
//     account cannot divert the letters unseen.
//   - A representative only under a measure of representation over all
//     the person's affairs: a measure in force, with no areas named, whose
//     holder gives mandates and proxies for the person (the policy's
//     "give … representative" rows: tutelle, habilitation familiale with
//     representation, a mandat de protection future in force), and whose
//     role manages the person's affairs (a tutor, not the deputy tutor who
//     only watches). The letters are about every area of the person's
//     rights, so a measure over some areas only does not give this choice.
//   - Nobody else: not a curator (the person decides under curatelle, with
//     help), not an aidant under a mandate, not the holder of a proxy.
//     Those were chosen by the person, and the letters are how the person
//     sees what they do: whoever acts must not choose where the person
//     is told of it.

// MaxEmail is the longest email address Relais keeps (RFC 5321 §4.5.3.1.3
// bounds a path to 256 octets, the address to 254).
const MaxEmail = 254

// RuleNotMobile: a phone number that cannot receive a text message (a
// landline, a service number, a number outside France).
const RuleNotMobile Rule = "not_mobile"

// NoticesManager is the representation that lets a representative choose
// how the person receives their notices; nil when the actor is the person.
type NoticesManager struct {
	Measure *Representation
}

// NoticesManagedBy says whether actor a may choose how the person
// personID receives their notices at `at`, from the facts of that person
// (Facts.Representations, the actor's Memberships and second factor):
// the person, or the holder of a measure of representation over all
// their affairs (see above). Anyone else gets ErrNotPermitted.
func (p *Policy) NoticesManagedBy(a Actor, personID string, f Facts, at time.Time) (NoticesManager, error) {
	switch {
	case !IsID(a.PersonID):
		return NoticesManager{}, invalid("actor", RuleFormat)
	case !IsID(personID):
		return NoticesManager{}, invalid("person", RuleFormat)
	case a.PersonID == personID:
		return NoticesManager{}, nil
	}
	actor := Actor{PersonID: a.PersonID, SecondFactor: a.SecondFactor && f.ActorSecondFactor}
	for i := range f.Representations {
		r := &f.Representations[i]
		if r.PersonID != personID || !r.Kind.IsMeasure() || len(r.Areas) != 0 || !p.GivesFor(r) {
			continue
		}
		if ok, _ := p.holds(r, actor, at, f.Memberships); !ok {
			continue
		}
		return NoticesManager{Measure: r}, nil
	}
	return NoticesManager{}, fmt.Errorf("%w: only the person, or the holder of a measure of representation over all their affairs, chooses how they receive their letters",
		ErrNotPermitted)
}

// NoticesManagedBy is Policy.NoticesManagedBy on the store's facts now.
func (s *Service) NoticesManagedBy(ctx context.Context, a Actor, personID string) (NoticesManager, error) {
	if !IsID(personID) || !IsID(a.PersonID) {
		return s.cfg.Policy.NoticesManagedBy(a, personID, Facts{}, s.now())
	}
	var f Facts
	if a.PersonID != personID {
		var err error
		if f, err = s.store.DecisionFacts(ctx, personID, a.PersonID); err != nil {
			return NoticesManager{}, err
		}
	}
	return s.cfg.Policy.NoticesManagedBy(a, personID, f, s.now())
}

// CheckEmail refuses what cannot be an email address a notice is sent
// to, and returns it as Relais keeps it: trimmed, the domain in lower
// case. Only the address itself is taken (no display name, no comment,
// no address list): "jeanne@example.fr".
func CheckEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", invalid(field, RuleRequired)
	case !utf8.ValidString(s):
		return "", invalid(field, RuleFormat)
	case len(s) > MaxEmail:
		return "", invalidLimit(field, RuleTooLong, MaxEmail)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", invalid(field, RuleFormat)
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	// A domain people can reach has a dot and no empty label: "example.fr".
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") || strings.ContainsAny(domain, "[]") {
		return "", invalid(field, RuleFormat)
	}
	return local + "@" + strings.ToLower(domain), nil
}
