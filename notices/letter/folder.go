package letter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/relais-fr/relais/notices"
)

// Folder is the paper channel's notices.Sender where letters are kept as
// files: one PDF per notice, named after the notice's ID, in Dir (the
// demo's folder beside the database; a folder a print service collects).
// Writing the same notice again replaces its file with the same bytes, so
// a retry after a crash leaves one letter.
type Folder struct {
	Dir     string
	Printer *Printer
}

var _ notices.Sender = (*Folder)(nil)

// Send writes m's letter to Dir/<ID>.pdf through a temporary file renamed
// into place, so a reader never sees half a letter. An address that
// cannot be printed is a *notices.PermanentError (code "address") that
// wraps the *AddressError, so the outbox shows the notice as one that
// cannot be sent until the address is corrected.
func (f *Folder) Send(ctx context.Context, m notices.Message) error {
	d, err := f.Draft(ctx, m)
	if err != nil {
		return err
	}
	defer d.Discard()
	return d.Put()
}

// Letter is a letter rendered and written under a temporary name in its
// folder: Put gives it its name, Discard removes it.
type Letter struct {
	id, tmp, final string
}

// Draft renders m's letter once and writes it under a temporary name, with
// Send's errors: a caller that must take the notice before the letter is
// in the folder (the demo's print service, with several instances) knows
// first whether it can be printed, and has little left that can fail.
func (f *Folder) Draft(ctx context.Context, m notices.Message) (*Letter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	buf, err := f.render(m)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(f.Dir, "."+m.ID+"-*.pdf")
	if err != nil {
		return nil, fmt.Errorf("letter %s: %w", m.ID, err)
	}
	l := &Letter{id: m.ID, tmp: tmp.Name(), final: filepath.Join(f.Dir, m.ID+".pdf")}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		l.Discard()
		return nil, fmt.Errorf("letter %s: %w", m.ID, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		l.Discard()
		return nil, fmt.Errorf("letter %s: %w", m.ID, err)
	}
	if err := tmp.Close(); err != nil {
		l.Discard()
		return nil, fmt.Errorf("letter %s: %w", m.ID, err)
	}
	return l, nil
}

// Put renames the letter into place, Dir/<ID>.pdf, in one step.
func (l *Letter) Put() error {
	if err := os.Rename(l.tmp, l.final); err != nil {
		return fmt.Errorf("letter %s: %w", l.id, err)
	}
	return nil
}

// Discard removes the letter's temporary file; after Put there is none,
// and it does nothing.
func (l *Letter) Discard() {
	os.Remove(l.tmp)
}

// render is m's letter, or a *notices.PermanentError when it cannot be
// printed.
func (f *Folder) render(m notices.Message) (*bytes.Buffer, error) {
	if !safeID(m.ID) {
		return nil, &notices.PermanentError{Channel: notices.Paper, Code: "id", Err: fmt.Errorf("letter: notice id %q cannot name a file", m.ID)}
	}
	var buf bytes.Buffer
	if _, err := f.Printer.Render(&buf, m); err != nil {
		if errors.Is(err, ErrAddress) || errors.Is(err, ErrMessage) {
			code := "address"
			if errors.Is(err, ErrMessage) {
				code = "message"
			}
			return nil, &notices.PermanentError{Channel: notices.Paper, Code: code, Err: err}
		}
		return nil, err
	}
	return &buf, nil
}

// safeID keeps file names portable and inside Dir.
func safeID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
