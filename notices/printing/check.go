package printing

import (
	"context"
	"errors"
	"fmt"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
)

// Checker says whether a letter can be printed, as a print run decides
// it: the notice written in words by Writer, then its recipient's name
// and address checked against the French postal format
// (letter.AddressBlock). The operators' page asks it, so a letter a run
// leaves out is shown as one that cannot be sent.
type Checker struct {
	Writer notices.Writer
}

// Printable says whether n's letter has an address that can be printed.
// Notices that are not pending letters are not letters to print: true.
func (c Checker) Printable(ctx context.Context, n notices.Notice) (bool, error) {
	if n.Channel != notices.Paper || n.Status != notices.Pending {
		return true, nil
	}
	_, reason, err := c.write(ctx, n)
	return reason == nil, err
}

// write writes n in words and checks its address: the message, or the
// reason it cannot be printed (an error matching letter.ErrAddress), or
// a failure to write it.
func (c Checker) write(ctx context.Context, n notices.Notice) (notices.Message, error, error) {
	m, err := c.Writer.Write(ctx, n)
	if errors.Is(err, letter.ErrAddress) {
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
