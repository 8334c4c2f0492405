package printing

import (
	"context"
	"errors"
	"fmt"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
)

// Problem says why a letter cannot be printed.
type Problem string

const (
	// NoProblem: the letter can be printed (or the notice is not a
	// letter waiting to be printed).
	NoProblem Problem = ""
	// ProblemAddress: the recipient's postal address is missing or does
	// not fit the French postal format (letter.ErrAddress).
	ProblemAddress Problem = "address"
	// ProblemUnwritable: the notice can never be written (its recipient
	// or representation no longer exists: a *notices.PermanentError of
	// the Writer), or the layout refuses its message (letter.ErrMessage).
	ProblemUnwritable Problem = "unwritable"
)

// ProblemOf sorts a reason of Unprintable.
func ProblemOf(reason error) Problem {
	switch {
	case reason == nil:
		return NoProblem
	case errors.Is(reason, letter.ErrAddress):
		return ProblemAddress
	}
	return ProblemUnwritable
}

// Checker says whether a letter can be printed, as a print run decides
// it: the notice written in words by Writer, then its recipient's name
// and address checked against the French postal format
// (letter.AddressBlock). The operators' page asks it, so a letter a run
// leaves out is shown as one that cannot be sent.
type Checker struct {
	Writer notices.Writer
}

// Problem says why n's letter cannot be printed, or NoProblem. Notices
// that are not pending letters have none. An error is a failure to
// find out (the store cannot be read).
func (c Checker) Problem(ctx context.Context, n notices.Notice) (Problem, error) {
	if n.Channel != notices.Paper || n.Status != notices.Pending {
		return NoProblem, nil
	}
	_, reason, err := c.write(ctx, n)
	return ProblemOf(reason), err
}

// write writes n in words and checks its address. It returns the
// message; or the reason it can never be printed (an error matching
// letter.ErrAddress, or the Writer's *notices.PermanentError); or a
// failure to write it that a later run may not meet.
func (c Checker) write(ctx context.Context, n notices.Notice) (m notices.Message, reason, err error) {
	m, err = c.Writer.Write(ctx, n)
	if errors.Is(err, letter.ErrAddress) || notices.IsPermanent(err) {
		return m, err, nil
	}
	if err != nil {
		return m, nil, fmt.Errorf("write notice %s: %w", n.ID, err)
	}
	m.ID = n.ID
	if _, err := letter.AddressBlock(m.To.Name, m.To.Address); err != nil {
		return m, err, nil
	}
	return m, nil, nil
}
