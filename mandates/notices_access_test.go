package mandates

import (
	"errors"
	"testing"
)

// TestNoticesAccess: operators see a person's notices and resend them;
// the person, their tutor and anyone else do not; an unknown person is
// not found.
func TestNoticesAccess(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor := w.person("Paul", "Lefèvre")
	w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	stranger := w.person("Karim", "Benali")
	for _, tc := range []struct {
		name   string
		actor  Actor
		person string
		want   error
	}{
		{"an operator, about Jeanne", w.op, w.jane, nil},
		{"an operator, about someone unknown", w.op, NewID(w.clock), ErrNotFound},
		{"an operator, about an id that is not one", w.op, "../x", ErrNotFound},
		{"Jeanne herself", Actor{PersonID: w.jane, SecondFactor: true}, w.jane, ErrNotPermitted},
		{"Jeanne's tutor", Actor{PersonID: tutor, SecondFactor: true}, w.jane, ErrNotPermitted},
		{"someone else", Actor{PersonID: stranger}, w.jane, ErrNotPermitted},
		{"nobody signed in", Actor{}, w.jane, ErrNotPermitted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := w.svc.NoticesAccess(w.ctx, tc.actor, tc.person)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("NoticesAccess: %v, want %v", err, tc.want)
			}
		})
	}
}
