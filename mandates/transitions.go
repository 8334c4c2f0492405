package mandates

import (
	"slices"
	"time"
)

// Transition is a change of status an operator makes to a representation.
type Transition string

const (
	Activate Transition = "activate" // a mandat de protection future takes effect
	Pause    Transition = "suspend"  // it stops working until resumed
	Unpause  Transition = "resume"   // a pause ends
	Finish   Transition = "end"      // it ends for good (a judgment, a death)
	Correct  Transition = "edit"     // its decision, representative, dates, areas or adjustments are corrected
)

// Transitions lists them in the order a page offers them.
var Transitions = []Transition{Activate, Pause, Unpause, Finish, Correct}

// Blocker says why a transition cannot happen now.
type Blocker string

const (
	NotPending  Blocker = "not_pending"   // only a measure waiting to take effect is activated
	PastEnd     Blocker = "past_end"      // its end date has passed
	NotInForce  Blocker = "not_in_force"  // only a representation in force is paused
	NotPaused   Blocker = "not_paused"    // only a paused representation resumes
	AlreadyOver Blocker = "already_ended" // it has already ended
	NotAMeasure Blocker = "not_a_measure" // an operator corrects court measures only
	Unknown     Blocker = "unknown"       // no such transition
)

// TransitionError says which transition cannot happen and why. It matches
// ErrNotPermitted for a representation an operator may not correct
// (NotAMeasure, Unknown) and ErrInactive otherwise: the status does not
// allow it.
type TransitionError struct {
	Transition Transition
	Blocker    Blocker
}

func (e *TransitionError) Error() string {
	return "mandates: " + string(e.Transition) + ": " + string(e.Blocker)
}

// Is makes errors.Is match the one sentinel of the blocker.
func (e *TransitionError) Is(target error) bool {
	if e.Blocker == NotAMeasure || e.Blocker == Unknown {
		return target == ErrNotPermitted
	}
	return target == ErrInactive
}

// Message says why in plain English, from the blocker alone.
func (e *TransitionError) Message() string {
	switch e.Blocker {
	case NotPending:
		return "Only a measure waiting to take effect can be activated."
	case PastEnd:
		return "Its end date has passed."
	case NotInForce:
		return "Only a representation in force can be paused."
	case NotPaused:
		return "Only a paused representation can resume."
	case AlreadyOver:
		return "It has already ended."
	case NotAMeasure:
		return "Only court measures are edited by an operator."
	}
	return "There is no such change."
}

// Can says whether the transition t may happen at now: nil, or a
// *TransitionError saying why not. The service checks it on every path,
// and pages offer only what it allows.
func (r *Representation) Can(t Transition, now time.Time) error {
	var b Blocker
	switch t {
	case Activate:
		switch {
		case r.Status != StatusPending:
			b = NotPending
		case r.EffectiveStatus(now) == StatusExpired:
			b = PastEnd
		}
	case Pause:
		if r.Status != StatusActive {
			b = NotInForce
		}
	case Unpause:
		if r.Status != StatusSuspended {
			b = NotPaused
		}
	case Finish:
		if r.Status == StatusRevoked {
			b = AlreadyOver
		}
	case Correct:
		switch {
		case !r.Kind.IsMeasure():
			b = NotAMeasure
		case r.Status == StatusRevoked:
			b = AlreadyOver
		}
	default:
		b = Unknown
	}
	if b == "" {
		return nil
	}
	return &TransitionError{Transition: t, Blocker: b}
}

// Next lists the transitions that may happen at now.
func (r *Representation) Next(now time.Time) []Transition {
	return slices.DeleteFunc(slices.Clone(Transitions), func(t Transition) bool { return r.Can(t, now) != nil })
}
