package mandates

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRepresentationCan(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	measure := func(k Kind, st Status, until time.Time) *Representation {
		return &Representation{Kind: k, Status: st, ValidFrom: now.AddDate(-1, 0, 0), ValidUntil: until}
	}
	later, past := now.AddDate(1, 0, 0), now.AddDate(0, 0, -1)
	tests := []struct {
		name string
		r    *Representation
		t    Transition
		want Blocker // "": allowed
	}{
		{"a pending mandat de protection future is activated", measure(MandatProtectionFuture, StatusPending, time.Time{}), Activate, ""},
		{"an active measure is not activated again", measure(Tutelle, StatusActive, later), Activate, NotPending},
		{"a pending measure past its end is not activated", measure(MandatProtectionFuture, StatusPending, past), Activate, PastEnd},
		{"a measure in force is paused", measure(Tutelle, StatusActive, later), Pause, ""},
		{"a paused measure is not paused again", measure(Tutelle, StatusSuspended, later), Pause, NotInForce},
		{"a pending measure is not paused", measure(MandatProtectionFuture, StatusPending, time.Time{}), Pause, NotInForce},
		{"a paused measure resumes", measure(Tutelle, StatusSuspended, later), Unpause, ""},
		{"a measure in force does not resume", measure(Tutelle, StatusActive, later), Unpause, NotPaused},
		{"a measure in force ends", measure(Tutelle, StatusActive, later), Finish, ""},
		{"a paused measure ends", measure(Tutelle, StatusSuspended, later), Finish, ""},
		{"an ended measure does not end again", measure(Tutelle, StatusRevoked, later), Finish, AlreadyOver},
		{"a measure in force is corrected", measure(CuratelleRenforcee, StatusActive, later), Correct, ""},
		{"an ended measure is not corrected", measure(Tutelle, StatusRevoked, later), Correct, AlreadyOver},
		{"a proxy is not corrected by an operator", measure(Proxy, StatusActive, later), Correct, NotAMeasure},
		{"an unknown transition is refused", measure(Tutelle, StatusActive, later), "promote", Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Can(tt.t, now)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Can(%s) = %v, want nil", tt.t, err)
				}
				if !slices.Contains(tt.r.Next(now), tt.t) {
					t.Errorf("Next = %v, want it to hold %s", tt.r.Next(now), tt.t)
				}
				return
			}
			var te *TransitionError
			if !errors.As(err, &te) || te.Blocker != tt.want || te.Transition != tt.t {
				t.Fatalf("Can(%s) = %v, want blocker %s", tt.t, err, tt.want)
			}
			notPermitted := tt.want == NotAMeasure || tt.want == Unknown
			if errors.Is(err, ErrNotPermitted) != notPermitted || errors.Is(err, ErrInactive) == notPermitted {
				t.Errorf("Can(%s) = %v: ErrNotPermitted %v, ErrInactive %v; want exactly one", tt.t, err,
					errors.Is(err, ErrNotPermitted), errors.Is(err, ErrInactive))
			}
			if slices.Contains(tt.r.Next(now), tt.t) {
				t.Errorf("Next = %v holds %s", tt.r.Next(now), tt.t)
			}
		})
	}
}

// statusStore holds representations in memory for the operator's status
// changes; the other methods of Store are not used by them.
type statusStore struct {
	Store
	operator string
	reps     map[string]Representation
}

func (f *statusStore) HasRole(_ context.Context, personID string, role StaffRole) (bool, error) {
	return role == RoleOperator && personID == f.operator, nil
}

func (f *statusStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}

func (f *statusStore) Representation(_ context.Context, id string) (Representation, error) {
	r, ok := f.reps[id]
	if !ok {
		return r, ErrNotFound
	}
	return r, nil
}

func (f *statusStore) UpdateRepresentation(_ context.Context, id string, fn func(*Representation) (Change, error)) (Representation, error) {
	r, ok := f.reps[id]
	if !ok {
		return r, ErrNotFound
	}
	r.History = slices.Clone(r.History)
	c, err := fn(&r)
	if err != nil {
		return Representation{}, err
	}
	r.History, r.Version = append(r.History, c), r.Version+1
	f.reps[id] = r
	return r, nil
}

func TestSuspendAndEndRefuseAReasonOverItsLimitOnEveryPath(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	op := Actor{PersonID: NewID(now)}
	id := NewID(now.Add(time.Second))
	type change func(s *Service, reason string) (Representation, error)
	suspend := func(s *Service, reason string) (Representation, error) {
		return s.Suspend(t.Context(), op, id, 1, reason)
	}
	end := func(s *Service, reason string) (Representation, error) { return s.End(t.Context(), op, id, 1, reason) }
	tests := []struct {
		name   string
		change change
		reason string
		want   *InvalidError // nil: accepted
		status Status
	}{
		{"a pause with a reason of 500 bytes", suspend, strings.Repeat("a", 500), nil, StatusSuspended},
		{"a pause without a reason", suspend, "", nil, StatusSuspended},
		{"a pause with a reason of 501 bytes is refused", suspend, strings.Repeat("a", 501), &InvalidError{Field: "reason", Rule: RuleTooLong, Limit: 500}, StatusActive},
		{"a pause with a reason of 250 two-byte letters is accepted", suspend, strings.Repeat("é", 250), nil, StatusSuspended},
		{"a pause with a reason that is not text is refused", suspend, "\xff", &InvalidError{Field: "reason", Rule: RuleFormat}, StatusActive},
		{"an end with a reason of 500 bytes", end, strings.Repeat("a", 500), nil, StatusRevoked},
		{"an end with a reason of 501 bytes is refused", end, strings.Repeat("a", 501), &InvalidError{Field: "reason", Rule: RuleTooLong, Limit: 500}, StatusActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &statusStore{operator: op.PersonID, reps: map[string]Representation{
				id: {ID: id, Kind: Tutelle, Status: StatusActive, Version: 1, ValidFrom: now.AddDate(-1, 0, 0), ValidUntil: now.AddDate(1, 0, 0)}}}
			svc := NewService(st, &expirySink{}, ServiceConfig{Now: func() time.Time { return now }})
			_, err := tt.change(svc, tt.reason)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else {
				var inv *InvalidError
				if !errors.As(err, &inv) || *inv != *tt.want || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want %+v", err, tt.want)
				}
			}
			if got := st.reps[id]; got.Status != tt.status {
				t.Errorf("status %s, want %s", got.Status, tt.status)
			}
		})
	}
}

func TestStatusChangesFollowTheRepresentationsTransitions(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	op := Actor{PersonID: NewID(now)}
	id := NewID(now.Add(time.Second))
	st := &statusStore{operator: op.PersonID, reps: map[string]Representation{
		id: {ID: id, Kind: Tutelle, Status: StatusRevoked, Version: 1, ValidFrom: now.AddDate(-1, 0, 0), ValidUntil: now.AddDate(1, 0, 0)}}}
	svc := NewService(st, &expirySink{}, ServiceConfig{Now: func() time.Time { return now }})
	calls := map[Transition]func() error{
		Activate: func() error { _, err := svc.ActivateMeasure(t.Context(), op, id, 1); return err },
		Pause:    func() error { _, err := svc.Suspend(t.Context(), op, id, 1, ""); return err },
		Unpause:  func() error { _, err := svc.Resume(t.Context(), op, id, 1); return err },
		Finish:   func() error { _, err := svc.End(t.Context(), op, id, 1, ""); return err },
		Correct: func() error {
			_, err := svc.CorrectMeasure(t.Context(), op, id, 1, MeasureCorrection{Areas: []Area{"social"}, Reason: "erreur"})
			return err
		},
	}
	r := st.reps[id]
	for tr, call := range calls {
		var te *TransitionError
		err := call()
		if !errors.As(err, &te) || te.Transition != tr || !errors.Is(err, ErrInactive) {
			t.Errorf("%s of an ended measure: %v, want the TransitionError of Can (%v)", tr, err, r.Can(tr, now))
		}
	}
	if got := st.reps[id]; got.Version != 1 || len(got.History) != 0 {
		t.Errorf("an ended measure changed: version %d, %d history entries", got.Version, len(got.History))
	}
	if !errors.Is(func() error {
		_, err := svc.Suspend(t.Context(), Actor{PersonID: NewID(now.Add(2 * time.Second))}, id, 1, "")
		return err
	}(), ErrNotPermitted) {
		t.Error("someone who is not an operator paused a measure")
	}
}

func TestAReasonForAStatusChangeIsAtMostMaxReasonBytesOfText(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		rule   Rule
	}{
		{"no reason", "", ""},
		{"a reason of exactly the limit", strings.Repeat("a", MaxReason), ""},
		{"a reason one byte over", strings.Repeat("a", MaxReason+1), RuleTooLong},
		{"a reason that is not UTF-8", "pause \xff", RuleFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckReason(tt.reason)
			var inv *InvalidError
			switch {
			case tt.rule == "" && err != nil:
				t.Errorf("CheckReason: %v, want nil", err)
			case tt.rule != "" && (!errors.As(err, &inv) || inv.Field != "reason" || inv.Rule != tt.rule):
				t.Errorf("CheckReason: %v, want an InvalidError on reason with rule %s", err, tt.rule)
			case tt.rule == RuleTooLong && inv.Limit != MaxReason:
				t.Errorf("limit %d, want %d", inv.Limit, MaxReason)
			}
		})
	}
}
