package mandates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MeasureInput is a court decision as an operator registers it: one
// measure, and each representative it names with their own role.
type MeasureInput struct {
	Kind            Kind
	PersonID        string
	Representatives []RepresentativeInput
	// Areas the measure covers; empty means every area. A representative
	// may have narrower areas of their own (a tuteur aux biens).
	Areas       []Area
	Adjustments []Adjustment
	ValidFrom   time.Time
	ValidUntil  time.Time
	Decision    CourtDecision // RegisteredBy and RegisteredAt are filled in
}

// RepresentativeInput is one representative named by a decision.
type RepresentativeInput struct {
	PersonID       string
	OrganisationID string
	Delegates      []string
	Role           Role
	Areas          []Area // empty: the measure's areas
}

// RegisterMeasure records a court measure (or a mandat de protection
// future, which starts pending until an operator activates it): one
// representation per representative, all or none. The same decision
// registered twice is refused with ErrAlreadyExists.
func (s *Service) RegisterMeasure(ctx context.Context, op Actor, in MeasureInput) ([]Representation, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return nil, err
	}
	if problems := in.Check(); len(problems) > 0 {
		return nil, problems[0]
	}
	now := s.now()
	in.Decision.RegisteredBy, in.Decision.RegisteredAt = op.PersonID, now
	status := StatusActive
	if in.Kind == MandatProtectionFuture {
		status = StatusPending
	}
	var out []Representation
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		out = nil
		if _, err := s.personExists(ctx, "person", in.PersonID); err != nil {
			return err
		}
		if taken, err := s.store.DecisionRegistered(ctx, in.Decision.Key()); err != nil {
			return err
		} else if taken {
			return &UniqueError{Entity: "representation", Field: "decision"}
		}
		for i, ri := range in.Representatives {
			if ri.PersonID != "" {
				if _, err := s.personExists(ctx, "representative", ri.PersonID); err != nil {
					return err
				}
			}
			if ri.OrganisationID != "" {
				if err := s.orgExists(ctx, ri.OrganisationID); err != nil {
					return err
				}
			}
			areas := in.Areas
			if len(ri.Areas) > 0 {
				areas = ri.Areas
			}
			d := in.Decision
			r := Representation{ID: NewID(now.Add(time.Duration(i))), Kind: in.Kind, PersonID: in.PersonID,
				Representative: Representative{PersonID: ri.PersonID, OrganisationID: ri.OrganisationID, Delegates: ri.Delegates},
				Role:           ri.Role, Areas: SortAreas(areas), Adjustments: in.Adjustments, ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil,
				Status: status, Source: Source{Decision: &d}}
			if err := r.Validate(); err != nil {
				return err
			}
			stored, err := s.create(ctx, r, op.PersonID, "")
			if err != nil {
				return err
			}
			out = append(out, stored)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("register measure: %w", err)
	}
	return out, nil
}

func (s *Service) orgExists(ctx context.Context, id string) error {
	if !IsID(id) {
		return invalid("organisation", RuleFormat)
	}
	_, err := s.store.Organisation(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return invalid("organisation", RuleUnknown)
	}
	return err
}

// operatorChange is a transition only an operator makes, to any
// representation, when the representation allows it (Representation.Can).
func (s *Service) operatorChange(ctx context.Context, op Actor, t Transition, id string, version int64, fn func(*Representation) (Change, error)) (Representation, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return Representation{}, err
	}
	return s.change(ctx, id, version, func(r *Representation) (Change, error) {
		if err := r.Can(t, s.cfg.Now()); err != nil {
			return Change{}, err
		}
		c, err := fn(r)
		c.ActorID = op.PersonID
		return c, err
	})
}

// ActivateMeasure puts a mandat de protection future into effect.
func (s *Service) ActivateMeasure(ctx context.Context, op Actor, id string, version int64) (Representation, error) {
	return s.operatorChange(ctx, op, Activate, id, version, func(r *Representation) (Change, error) {
		r.Status = StatusActive
		return Change{Type: EventActivated}, nil
	})
}

// CheckReason applies the rules of the reason an operator gives for a
// status change: optional, valid UTF-8, at most MaxReason bytes. Suspend
// and End check it; a path that takes a reason for another change (the
// API's status route) checks it too, so one rule holds on every path.
func CheckReason(reason string) error {
	return checkText("reason", reason, MaxReason, false)
}

// Suspend pauses a representation of any kind: it stops working at once.
// The reason is kept in its history, at most MaxReason bytes.
func (s *Service) Suspend(ctx context.Context, op Actor, id string, version int64, reason string) (Representation, error) {
	if err := CheckReason(reason); err != nil {
		return Representation{}, err
	}
	return s.operatorChange(ctx, op, Pause, id, version, func(r *Representation) (Change, error) {
		r.Status = StatusSuspended
		return Change{Type: EventSuspended, Detail: detail("reason", reason)}, nil
	})
}

// Resume ends a pause.
func (s *Service) Resume(ctx context.Context, op Actor, id string, version int64) (Representation, error) {
	return s.operatorChange(ctx, op, Unpause, id, version, func(r *Representation) (Change, error) {
		r.Status = StatusActive
		return Change{Type: EventResumed}, nil
	})
}

// End records that a measure ended (a judgment lifting it, a death): it
// stops working at once and cannot come back. The reason is kept in its
// history, at most MaxReason bytes.
func (s *Service) End(ctx context.Context, op Actor, id string, version int64, reason string) (Representation, error) {
	if err := CheckReason(reason); err != nil {
		return Representation{}, err
	}
	return s.operatorChange(ctx, op, Finish, id, version, func(r *Representation) (Change, error) {
		r.Status = StatusRevoked
		return Change{Type: EventRevoked, Detail: detail("reason", reason)}, nil
	})
}

// MeasureEdit is what an operator may correct on a registered measure.
type MeasureEdit struct {
	ValidUntil  time.Time
	Areas       []Area
	Adjustments []Adjustment
}

// EditMeasure corrects a measure's end, areas and adjustments. version is
// the one the operator's form was built from: a change made meanwhile by
// someone else makes it fail with ErrConflict, and nothing is lost.
func (s *Service) EditMeasure(ctx context.Context, op Actor, id string, version int64, e MeasureEdit) (Representation, error) {
	return s.operatorChange(ctx, op, Correct, id, version, func(r *Representation) (Change, error) {
		var changed []string
		if !e.ValidUntil.Equal(r.ValidUntil) {
			r.ValidUntil, changed = e.ValidUntil, append(changed, "valid_until")
		}
		if areas := SortAreas(e.Areas); !slices.Equal(areas, r.Areas) {
			r.Areas, changed = areas, append(changed, "procedure_areas")
		}
		if !slices.Equal(e.Adjustments, r.Adjustments) {
			r.Adjustments, changed = e.Adjustments, append(changed, "adjustments")
		}
		if len(changed) == 0 {
			return Change{}, invalid("edit", RuleUnchanged)
		}
		return Change{Type: EventUpdated, Detail: detail("fields", strings.Join(changed, " "))}, nil
	})
}

// detail builds a history detail, leaving out empty values.
func detail(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
