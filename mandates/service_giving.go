package mandates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// answerer is the measure representation through which the actor gives or
// agrees to a mandate or proxy that follows u for personID: one the actor
// holds and may use now (a second factor when an organisation holds it),
// of u's decision, whose role answers for the person (Policy.mayAnswer).
// Anyone else gets ErrNotPermitted.
func (s *Service) answerer(ctx context.Context, a Actor, u *UnderMeasure, personID string, areas []Area, at time.Time) (*Representation, error) {
	reps, err := s.store.RepresentationsOf(ctx, personID)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.MembershipsOf(ctx, a.PersonID)
	if err != nil {
		return nil, err
	}
	return s.cfg.Policy.answerer(a, u, reps, ms, areas, at)
}

// answerer is Service.answerer on what is already read: reps, the
// person's representations, and ms, the actor's memberships.
func (p *Policy) answerer(a Actor, u *UnderMeasure, reps []Representation, ms []Membership, areas []Area, at time.Time) (*Representation, error) {
	if u == nil || u.Giver == GivenByPerson {
		return nil, fmt.Errorf("%w: no representative answers for this person", ErrNotPermitted)
	}
	for i := range reps {
		m := &reps[i]
		// A co-representative answers only for areas their record covers
		// (a tuteur à la personne gives no mandate over money).
		if !m.Kind.IsMeasure() || !sameDecision(u, m) || !p.mayAnswer(m) || !coversAll(m, areas) {
			continue
		}
		if ok, _ := p.holds(m, a, at, ms); ok {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w: only the representative under the measure answers for this person", ErrNotPermitted)
}

// RequestsAwaiting lists the mandates and proxies waiting for the actor's
// answer as a representative under a measure, newest first: « Demandes
// pour Jeanne ».
func (s *Service) RequestsAwaiting(ctx context.Context, a Actor) ([]View, error) {
	held, err := s.For(ctx, a.PersonID)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.MembershipsOf(ctx, a.PersonID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Representation
	seen := map[string]bool{}
	for _, m := range held {
		if !m.Kind.IsMeasure() || !m.Representation.ActiveAt(now) || seen[m.PersonID] || !s.cfg.Policy.mayAnswer(&m.Representation) {
			continue
		}
		seen[m.PersonID] = true
		reps, err := s.store.RepresentationsOf(ctx, m.PersonID)
		if err != nil {
			return nil, err
		}
		for _, r := range reps {
			if r.Waits() != WaitingRepresentative || r.EffectiveStatus(now) != StatusPendingConsent {
				continue
			}
			if _, err := s.cfg.Policy.answerer(a, r.Source.Measure, reps, ms, r.Areas, now); err == nil {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(x, y Representation) int { return y.CreatedAt.Compare(x.CreatedAt) })
	return s.Describe(ctx, out)
}

// AnswerForPerson is the representative's answer to a mandate or proxy
// waiting for them: under a measure whose representative gives it (under
// tutelle), they give it for the person or refuse it; under curatelle
// renforcée, they agree to what the person gave, or refuse. version is the
// one the representative read (0: any): a request changed since (other
// areas) fails with ErrConflict, so nobody agrees to what they did not
// see. Anyone else gets ErrNotFound, so nobody learns of the request.
func (s *Service) AnswerForPerson(ctx context.Context, a Actor, id string, version int64, accept bool) (Representation, error) {
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return Representation{}, err
	}
	now := s.now()
	m, err := s.answerer(ctx, a, r.Source.Measure, r.PersonID, r.Areas, now)
	if errors.Is(err, ErrNotPermitted) {
		return Representation{}, fmt.Errorf("representation %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Representation{}, err
	}
	asker := requester(&r)
	return s.change(ctx, id, version, func(r *Representation) (Change, error) {
		if r.Waits() != WaitingRepresentative || r.EffectiveStatus(now) != StatusPendingConsent {
			return Change{}, fmt.Errorf("%w: this request is not waiting for your answer", ErrInactive)
		}
		u := *r.Source.Measure
		d := detail("measure_id", m.ID, "role", string(m.Role), "rule", string(u.Giver), "by", "representative")
		if !accept {
			r.Status = StatusRevoked
			return Change{Type: EventDeclined, ActorID: a.PersonID, Detail: d}, nil
		}
		u.MeasureID, u.AnsweredBy, u.AnsweredAt = m.ID, a.PersonID, now
		r.Source.Measure = &u
		c := Change{Type: EventAgreed, ActorID: a.PersonID, Detail: d}
		if u.Giver == GivenByRepresentative && r.Kind == AidantMandate {
			// The representative gives it for the person: that is the
			// consent, witnessed by the aidant who asked.
			rec := ConsentRecord{Method: ConsentByRepresentative, GivenAt: now, GivenBy: a.PersonID, WitnessID: asker}
			r.Source.Consent = &rec
			c = Change{Type: EventConsentGiven, ActorID: a.PersonID, Detail: consentDetail(&rec, &u)}
			c.Detail["role"] = string(m.Role)
		}
		if r.Waits() == WaitingNobody {
			dur := durationOf(r)
			r.ValidFrom, r.ValidUntil, r.Status = now, dur.End(now), StatusActive
		}
		return c, nil
	})
}

// requester is who asked for a representation: its first history entry's
// actor.
func requester(r *Representation) string {
	if len(r.History) > 0 {
		return r.History[0].ActorID
	}
	return ""
}

// ChangeMandate changes the areas and length of an aidant mandate in force
// or waiting, instead of adding a second one: the person (or, under a
// measure, the representative) is asked again, so it waits for consent
// until then.
func (s *Service) ChangeMandate(ctx context.Context, a Actor, id string, areas []Area, d Duration) (Representation, error) {
	if !d.Valid() {
		return Representation{}, invalid("duration", RuleTerm)
	}
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return Representation{}, err
	}
	if r.Kind != AidantMandate {
		return Representation{}, fmt.Errorf("%w: this is not an aidant mandate", ErrInactive)
	}
	if err := s.requireAidant(ctx, a, r.Representative.OrganisationID); err != nil {
		return Representation{}, err
	}
	o, err := s.store.Organisation(ctx, r.Representative.OrganisationID)
	if err != nil {
		return Representation{}, err
	}
	for _, area := range areas {
		if area.Valid() && !o.Covers(area) {
			return Representation{}, invalid("procedure_areas", RuleForbidden)
		}
	}
	var out Representation
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		reps, err := s.lockedRepresentations(ctx, r.PersonID)
		if err != nil {
			return err
		}
		out, err = s.change(ctx, id, 0, func(r *Representation) (Change, error) {
			now := s.now()
			switch r.EffectiveStatus(now) {
			case StatusActive, StatusPendingConsent:
			case StatusSuspended:
				// Only an operator resumes what an operator paused.
				return Change{}, fmt.Errorf("%w: this mandate is paused", ErrInactive)
			default:
				return Change{}, fmt.Errorf("%w: this mandate has ended", ErrInactive)
			}
			r.Areas, r.ValidFrom, r.ValidUntil, r.Status = SortAreas(areas), now, d.End(now), StatusPendingConsent
			r.Source.Consent = nil
			r.Source.Measure = s.cfg.Policy.underMeasure(s.cfg.Policy.Rule(reps, r.PersonID, r.Areas, now), a.PersonID)
			if err := r.Validate(); err != nil {
				return Change{}, err
			}
			return Change{Type: EventUpdated, ActorID: a.PersonID, OrganisationID: r.Representative.OrganisationID,
				Detail: detail("duration", string(d), "consent", "asked_again")}, nil
		})
		if err != nil {
			return err
		}
		// A code sent for what the mandate was cannot consent to what it
		// is now.
		_, err = s.store.UpdateConsentCode(ctx, id, func(c *ConsentCode) error {
			if c.UsedAt.IsZero() {
				c.ExpiresAt = s.now()
			}
			return nil
		})
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return Representation{}, fmt.Errorf("change mandate: %w", err)
	}
	return out, nil
}

// stopsForPerson says whether the actor stops or narrows representation id,
// a mandate or a proxy, as the representative who gives them for its
// person under their measure (the tutor stops what they gave). false,
// without error, for anyone else: the change itself refuses them.
func (s *Service) stopsForPerson(ctx context.Context, a Actor, id string) (bool, error) {
	r, err := s.store.Representation(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && r.PersonID == a.PersonID) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	u := r.Source.Measure
	if r.Kind.IsMeasure() || u == nil || u.Giver != GivenByRepresentative {
		return false, nil
	}
	_, err = s.answerer(ctx, a, u, r.PersonID, nil, s.now())
	if errors.Is(err, ErrNotPermitted) {
		return false, nil
	}
	return err == nil, err
}

// GivenFor lists the mandates and proxies in force over personID that the
// actor stops as the representative who gives them for the person under
// their measure (what the tutor gave): the tutor sees them, and may stop
// them at once (Withdraw).
func (s *Service) GivenFor(ctx context.Context, a Actor, personID string) ([]View, error) {
	reps, err := s.store.RepresentationsOf(ctx, personID)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.MembershipsOf(ctx, a.PersonID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Representation
	for _, r := range reps {
		u := r.Source.Measure
		if r.Kind.IsMeasure() || u == nil || u.Giver != GivenByRepresentative {
			continue
		}
		if st := r.EffectiveStatus(now); st != StatusActive && st != StatusSuspended {
			continue
		}
		if _, err := s.cfg.Policy.answerer(a, u, reps, ms, nil, now); err == nil {
			out = append(out, r)
		}
	}
	return s.describe(ctx, out, now, map[string][]Representation{personID: reps})
}
