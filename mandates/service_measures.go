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

// MeasureCorrection is a registered measure as an operator corrects it
// from the court's decision: the decision's number, court, date and
// renewal, who represents and in which role, the areas, the judge's
// adjustments, the dates, and why (Reason, required). CorrectionOf fills it
// with the record as it is, so that a caller changes only what was wrong.
// The kind and the represented person are not corrected: a decision of
// another kind, or about someone else, is another measure, ended and
// registered anew. Of Representative, only PersonID, OrganisationID and
// Role are read: the delegates an organisation named stay while the
// organisation stays, and its Areas are the correction's Areas.
type MeasureCorrection struct {
	Decision       CourtDecision // RegisteredBy and RegisteredAt are kept as registered
	Representative RepresentativeInput
	Areas          []Area // empty: every area
	Adjustments    []Adjustment
	ValidFrom      time.Time
	ValidUntil     time.Time
	Reason         string
}

// CorrectionOf is the correction that changes nothing of r: what a form
// shows before the operator changes it.
func CorrectionOf(r *Representation) MeasureCorrection {
	c := MeasureCorrection{Representative: RepresentativeInput{PersonID: r.Representative.PersonID,
		OrganisationID: r.Representative.OrganisationID, Role: r.Role},
		Areas: slices.Clone(r.Areas), Adjustments: slices.Clone(r.Adjustments), ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil}
	if d := r.Source.Decision; d != nil {
		c.Decision = *d
	}
	return c
}

// CheckCorrectionReason is the rule of a correction's reason: required,
// valid UTF-8, at most MaxReason bytes (CheckReason's rules, and not
// blank: a correction of a court decision always says why).
func CheckCorrectionReason(reason string) error {
	return checkText("reason", reason, MaxReason, true)
}

// Check reports every problem of the correction of r that the law's shape
// lets it see before any record is read, with MeasureInput.Check's rules
// for a decision naming one representative (its problems carry Index 1),
// then the reason's. CorrectMeasure refuses the first; a page shows them
// all at once.
func (c *MeasureCorrection) Check(r *Representation) []*InvalidError {
	in := c.input(r)
	out := in.Check()
	var inv *InvalidError
	if errors.As(CheckCorrectionReason(c.Reason), &inv) {
		out = append(out, inv)
	}
	return out
}

// input is the correction as the registration of r's decision naming one
// representative.
func (c *MeasureCorrection) input(r *Representation) MeasureInput {
	d := c.decision(r)
	return MeasureInput{Kind: r.Kind, PersonID: r.PersonID, Representatives: []RepresentativeInput{{PersonID: c.Representative.PersonID,
		OrganisationID: c.Representative.OrganisationID, Role: c.Representative.Role}}, Areas: c.Areas, Adjustments: c.Adjustments,
		ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, Decision: d}
}

// decision is r's decision with the correction's number, court, date and
// renewal, and who registered it when, as registered.
func (c *MeasureCorrection) decision(r *Representation) CourtDecision {
	var d CourtDecision
	if r.Source.Decision != nil {
		d = *r.Source.Decision
	}
	d.Jurisdiction, d.Reference, d.Date, d.Renewal = c.Decision.Jurisdiction, c.Decision.Reference, c.Decision.Date, c.Decision.Renewal
	return d
}

// decisionChanges are the fields of the decision itself the correction
// changes, which every representation of the decision shares.
func (c *MeasureCorrection) decisionChanges(r *Representation) []string {
	var old CourtDecision
	if r.Source.Decision != nil {
		old = *r.Source.Decision
	}
	var out []string
	if c.Decision.Reference != old.Reference {
		out = append(out, "decision_reference")
	}
	if c.Decision.Jurisdiction != old.Jurisdiction {
		out = append(out, "decision_jurisdiction")
	}
	if !c.Decision.Date.Equal(old.Date) {
		out = append(out, "decision_date")
	}
	if c.Decision.Renewal != old.Renewal {
		out = append(out, "renewal")
	}
	return out
}

// changes are every field the correction changes on r, decision first, in
// the order of the operator's form.
func (c *MeasureCorrection) changes(r *Representation) []string {
	out := c.decisionChanges(r)
	if c.replaces(r) {
		out = append(out, "representative")
	}
	if c.Representative.Role != r.Role {
		out = append(out, "role")
	}
	if !c.ValidFrom.Equal(r.ValidFrom) {
		out = append(out, "valid_from")
	}
	if !c.ValidUntil.Equal(r.ValidUntil) {
		out = append(out, "valid_until")
	}
	if !slices.Equal(SortAreas(c.Areas), r.Areas) {
		out = append(out, "procedure_areas")
	}
	if !slices.Equal(c.Adjustments, r.Adjustments) {
		out = append(out, "adjustments")
	}
	return out
}

// replaces says whether the correction names another representative.
func (c *MeasureCorrection) replaces(r *Representation) bool {
	return c.Representative.PersonID != r.Representative.PersonID || c.Representative.OrganisationID != r.Representative.OrganisationID
}

// apply writes the correction into r (the same representative).
func (c *MeasureCorrection) apply(r *Representation) {
	d := c.decision(r)
	r.Source.Decision = &d
	r.Role, r.Areas, r.Adjustments = c.Representative.Role, SortAreas(c.Areas), slices.Clone(c.Adjustments)
	r.ValidFrom, r.ValidUntil = c.ValidFrom, c.ValidUntil
}

// CorrectMeasure corrects a registered measure: any field of the court's
// decision, with a reason (CheckCorrectionReason), journaled as a
// correction (EventUpdated, detail fields and reason) in the person's
// journal, in one transaction with the change. version is the one the
// operator's form was built from: a change made meanwhile by someone else
// makes it fail with ErrConflict, before any problem of the correction
// itself (the operator first sees the record as it is now), and nothing is
// lost. It returns the
// corrected representation: the same one, or, when the representative
// changed, the one that replaces it.
//
// The decision's number, court, date and renewal belong to the decision,
// not to one representative: they are corrected on every representation
// of the decision still in force (each co-representative's, each with its
// own history entry), so that the decision keeps one key. A new key taken
// by another registered decision is refused with a *UniqueError, as a
// second registration is.
//
// A correction of the representative ends the representation and creates
// the corrected one, rather than changing who holds it: a representation
// has one holder for its whole life, so every token, agreement, journal
// entry and history that names it names the person who really held it.
// The one named wrongly loses access at once (a grant is checked against
// its representation at every use, and an ended one allows nothing), yet
// still reads, in its history, that it ended by correction and why; the
// new holder reads, in theirs, what it replaces and why. The two entries
// name each other (replaced_by, replaces). A decision names a
// representative once: one it already names, or named before, is refused
// (representatives, RuleDuplicate).
//
// A correction's journal entry names the areas of the measure before and
// after it (every area for a measure that covers them all), so that every
// representative who may read a part of the person's journal the
// correction touches reads it. The notice to the people concerned is not
// sent from here.
func (s *Service) CorrectMeasure(ctx context.Context, op Actor, id string, version int64, c MeasureCorrection) (Representation, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return Representation{}, err
	}
	var out Representation
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.Representation(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && cur.Version != version {
			return fmt.Errorf("%w: the representation changed since it was read (version %d, now %d)", ErrConflict, version, cur.Version)
		}
		if err := cur.Can(Correct, s.cfg.Now()); err != nil {
			return err
		}
		if cur.Source.Decision == nil {
			// A correction corrects a court decision: a record without one
			// has nothing to correct (and no key to keep unique).
			return invalid("decision", RuleRequired)
		}
		if problems := c.Check(&cur); len(problems) > 0 {
			return problems[0]
		}
		fields := c.changes(&cur)
		if len(fields) == 0 {
			return invalid("edit", RuleUnchanged)
		}
		if err := s.checkCorrection(ctx, &cur, &c); err != nil {
			return err
		}
		if err := s.correctDecision(ctx, op, &cur, &c); err != nil {
			return err
		}
		if c.replaces(&cur) {
			out, err = s.replaceRepresentative(ctx, op, cur, c, fields)
			return err
		}
		out, err = s.correctOne(ctx, op, cur.ID, cur.Version, fields, c.Reason, "", c.apply)
		return err
	})
	if err != nil {
		return Representation{}, fmt.Errorf("correct measure %s: %w", id, err)
	}
	return out, nil
}

// checkCorrection reads what the correction names: a representative who
// exists and whom the decision does not name already, and a decision key
// no other decision has.
func (s *Service) checkCorrection(ctx context.Context, cur *Representation, c *MeasureCorrection) error {
	newKey := c.decision(cur).Key()
	if newKey != cur.Source.Decision.Key() {
		taken, err := s.store.DecisionRegistered(ctx, newKey)
		if err != nil {
			return err
		}
		if taken {
			return &UniqueError{Entity: "representation", Field: "decision"}
		}
	}
	if !c.replaces(cur) {
		return nil
	}
	ri := c.Representative
	if ri.PersonID != "" {
		if _, err := s.personExists(ctx, "representative", ri.PersonID); err != nil {
			return atIndex(err, 1)
		}
	} else if err := s.orgExists(ctx, ri.OrganisationID); err != nil {
		return atIndex(err, 1)
	}
	named, err := s.store.RepresentationsByDecision(ctx, cur.Source.Decision.Key())
	if err != nil {
		return err
	}
	if slices.ContainsFunc(named, func(o Representation) bool {
		return o.Representative.PersonID == ri.PersonID && o.Representative.OrganisationID == ri.OrganisationID
	}) {
		return atIndex(invalid("representatives", RuleDuplicate), 1)
	}
	return nil
}

// correctDecision corrects the decision's own fields on the other
// representations of the decision still open to a correction.
func (s *Service) correctDecision(ctx context.Context, op Actor, cur *Representation, c *MeasureCorrection) error {
	fields := c.decisionChanges(cur)
	if len(fields) == 0 {
		return nil
	}
	others, err := s.store.RepresentationsByDecision(ctx, cur.Source.Decision.Key())
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	for _, o := range others {
		if o.ID == cur.ID || o.Can(Correct, now) != nil {
			continue
		}
		if _, err := s.correctOne(ctx, op, o.ID, o.Version, fields, c.Reason, "", func(r *Representation) {
			d := c.decision(r)
			r.Source.Decision = &d
		}); err != nil {
			return err
		}
	}
	return nil
}

// correctOne applies fix to representation id at version, with the
// correction's history entry and journal entry.
func (s *Service) correctOne(ctx context.Context, op Actor, id string, version int64, fields []string, reason, replacedBy string, fix func(*Representation)) (Representation, error) {
	var before []Area
	var last Change
	r, err := s.store.UpdateRepresentation(ctx, id, func(r *Representation) (Change, error) {
		if r.Version != version {
			return Change{}, fmt.Errorf("%w: the representation changed since it was read (version %d, now %d)", ErrConflict, version, r.Version)
		}
		before = slices.Clone(r.Areas)
		fix(r)
		last = Change{Type: EventUpdated, At: s.now(), ActorID: op.PersonID,
			Detail: detail("fields", strings.Join(fields, " "), "reason", reason, "replaced_by", replacedBy)}
		return last, nil
	})
	if err != nil {
		return r, err
	}
	if n := len(r.History); n > 0 {
		last = r.History[n-1]
	}
	e := eventOf(&r, last)
	e.Areas = namedAreas(before, r.Areas)
	return r, s.emit(ctx, e)
}

// replaceRepresentative ends cur and creates the corrected representation
// for the representative the decision really names, in the caller's
// transaction.
func (s *Service) replaceRepresentative(ctx context.Context, op Actor, cur Representation, c MeasureCorrection, fields []string) (Representation, error) {
	now := s.now()
	next := cur
	next.ID, next.History = NewID(now), nil
	next.Representative = Representative{PersonID: c.Representative.PersonID, OrganisationID: c.Representative.OrganisationID}
	c.apply(&next)
	if err := next.Validate(); err != nil {
		return Representation{}, err
	}
	if _, err := s.correctOne(ctx, op, cur.ID, cur.Version, fields, c.Reason, next.ID, func(r *Representation) {
		r.Status = StatusRevoked
	}); err != nil {
		return Representation{}, err
	}
	first := Change{Seq: 1, At: now, ActorID: op.PersonID, Type: EventCreated, To: next.Status,
		Detail: detail("fields", strings.Join(fields, " "), "reason", c.Reason, "replaces", cur.ID)}
	if err := s.store.CreateRepresentation(ctx, next, first); err != nil {
		return Representation{}, err
	}
	e := eventOf(&next, first)
	e.Areas = namedAreas(next.Areas)
	if err := s.emit(ctx, e); err != nil {
		return Representation{}, err
	}
	return s.store.Representation(ctx, next.ID)
}

// namedAreas are the areas a correction's journal entry names: those of
// each version of the measure, every area for one that covers them all.
func namedAreas(versions ...[]Area) []Area {
	var out []Area
	for _, areas := range versions {
		if len(areas) == 0 {
			return slices.Clone(Areas)
		}
		out = append(out, areas...)
	}
	return slices.Compact(SortAreas(out))
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
