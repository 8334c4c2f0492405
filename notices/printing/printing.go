package printing

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
)

// Outbox is what a print run needs of the store (notices.Store has it).
type Outbox interface {
	ToPrint(ctx context.Context, limit int) ([]notices.Notice, error)
	MarkHandedOver(ctx context.Context, ids []string, at time.Time) error
}

// Batcher lays letters out into one PDF and says each one's page count;
// *letter.Printer is one.
type Batcher interface {
	Batch(w io.Writer, ms []notices.Message) ([]int, error)
}

// DefaultLimit is how many letters one run takes at most.
const DefaultLimit = 1000

// Run is one print run.
type Run struct {
	Store   Outbox
	Writer  notices.Writer
	Printer Batcher
	Now     func() time.Time // default time.Now
	Limit   int              // default DefaultLimit
	// Rename puts a finished file in place; default os.Rename. Tests
	// make it fail.
	Rename func(oldpath, newpath string) error
}

// Letter is one letter of the batch.
type Letter struct {
	Notice  notices.Notice
	Message notices.Message
	Pages   int // set by Print
}

// Reference is what the letter and the manifest quote: the message's, or
// the notice's id when the Writer gave none.
func (l Letter) Reference() string {
	if l.Message.Reference != "" {
		return l.Message.Reference
	}
	return l.Notice.ID
}

// Unprintable is a letter left out of the batch, and why: an error that
// matches letter.ErrAddress (a *letter.AddressError: a postal address
// missing or incomplete) or letter.ErrMessage. It stays pending, so the
// next run tries again once the address is corrected.
type Unprintable struct {
	Notice notices.Notice
	Reason error
}

// Plan is what a run prints and what it leaves out.
type Plan struct {
	Letters     []Letter
	Unprintable []Unprintable
}

// ErrExists: the PDF or the manifest named is already there. A run never
// replaces a file: it could be a batch not yet sent, whose letters are
// already marked handed over.
var ErrExists = errors.New("printing: the file already exists")

// ExistsError names the file that is already there; it matches ErrExists.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string        { return e.Path + ": " + ErrExists.Error() }
func (e *ExistsError) Is(target error) bool { return target == ErrExists }

// Plan writes the letters waiting to be printed, oldest first, and sorts
// out those that cannot be: what --dry-run shows. It marks nothing.
func (r *Run) Plan(ctx context.Context) (Plan, error) {
	limit := r.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	waiting, err := r.Store.ToPrint(ctx, limit)
	if err != nil {
		return Plan{}, fmt.Errorf("letters to print: %w", err)
	}
	var p Plan
	c := Checker{Writer: r.Writer}
	for _, n := range waiting {
		if err := ctx.Err(); err != nil {
			return Plan{}, err
		}
		m, reason, err := c.write(ctx, n)
		switch {
		case err != nil:
			return Plan{}, err
		case reason != nil:
			p.Unprintable = append(p.Unprintable, Unprintable{Notice: n, Reason: reason})
		default:
			p.Letters = append(p.Letters, Letter{Notice: n, Message: m})
		}
	}
	return p, nil
}

// Print makes the batch: pdfPath holds every printable letter, each from
// a new page, and csvPath the manifest, one line per letter in the PDF's
// order (reference, recipient, pages). Both are written to temporary
// files in their folders, synced to disk, then renamed into place; only
// then are the letters marked handed over, all in one transaction. A run
// that fails or is cancelled before leaves no file in place and marks
// nothing; a mark that fails removes the two files, so a batch on disk
// is always a batch marked. With no printable letter it writes nothing.
func (r *Run) Print(ctx context.Context, pdfPath, csvPath string) (Plan, error) {
	for _, path := range []string{pdfPath, csvPath} {
		if _, err := os.Lstat(path); err == nil {
			return Plan{}, &ExistsError{Path: path}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Plan{}, err
		}
	}
	if filepath.Clean(pdfPath) == filepath.Clean(csvPath) {
		return Plan{}, &ExistsError{Path: csvPath}
	}
	p, err := r.Plan(ctx)
	if err != nil || len(p.Letters) == 0 {
		return p, err
	}
	pdfTmp, err := r.writePDF(ctx, pdfPath, &p)
	if pdfTmp != "" {
		defer os.Remove(pdfTmp) // fails harmlessly once renamed
	}
	if err != nil || len(p.Letters) == 0 {
		return p, err
	}
	csvTmp, err := writeTemp(csvPath, func(w io.Writer) error { return manifest(w, p.Letters) })
	if csvTmp != "" {
		defer os.Remove(csvTmp)
	}
	if err != nil {
		return p, err
	}
	if err := ctx.Err(); err != nil {
		return p, err
	}
	rename := r.Rename
	if rename == nil {
		rename = os.Rename
	}
	if err := rename(pdfTmp, pdfPath); err != nil {
		return p, fmt.Errorf("put the batch in place: %w", err)
	}
	if err := rename(csvTmp, csvPath); err != nil {
		os.Remove(pdfPath)
		return p, fmt.Errorf("put the manifest in place: %w", err)
	}
	for _, dir := range uniqueDirs(pdfPath, csvPath) {
		if err := syncDir(dir); err != nil {
			os.Remove(pdfPath)
			os.Remove(csvPath)
			return p, err
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	ids := make([]string, len(p.Letters))
	for i, l := range p.Letters {
		ids[i] = l.Notice.ID
	}
	// A cancelled context still marks: both files are complete on disk, and
	// a batch on disk must be a batch marked, or its letters go twice.
	if err := r.Store.MarkHandedOver(context.WithoutCancel(ctx), ids, now()); err != nil {
		os.Remove(pdfPath)
		os.Remove(csvPath)
		return p, fmt.Errorf("mark the letters handed over: %w", err)
	}
	return p, nil
}

// writePDF lays out the letters into a temporary file beside pdfPath. A
// letter the layout refuses (an address line too wide for the window, a
// message without subject) is moved to p.Unprintable and the batch made
// again without it.
func (r *Run) writePDF(ctx context.Context, pdfPath string, p *Plan) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		msgs := make([]notices.Message, len(p.Letters))
		for i, l := range p.Letters {
			msgs[i] = l.Message
		}
		var counts []int
		tmp, err := writeTemp(pdfPath, func(w io.Writer) error {
			var err error
			counts, err = r.Printer.Batch(w, msgs)
			return err
		})
		if err == nil {
			for i := range p.Letters {
				p.Letters[i].Pages = counts[i]
			}
			return tmp, nil
		}
		if tmp != "" {
			os.Remove(tmp)
		}
		if !errors.Is(err, letter.ErrAddress) && !errors.Is(err, letter.ErrMessage) {
			return "", fmt.Errorf("lay out the batch: %w", err)
		}
		// Find the letters the layout refuses, one by one.
		var kept []Letter
		for _, l := range p.Letters {
			if _, err := r.Printer.Batch(io.Discard, []notices.Message{l.Message}); errors.Is(err, letter.ErrAddress) || errors.Is(err, letter.ErrMessage) {
				p.Unprintable = append(p.Unprintable, Unprintable{Notice: l.Notice, Reason: err})
				continue
			}
			kept = append(kept, l)
		}
		if len(kept) == len(p.Letters) {
			return "", fmt.Errorf("lay out the batch: %w", err)
		}
		p.Letters = kept
		if len(kept) == 0 {
			return "", nil
		}
	}
}

// writeTemp writes a temporary file in path's folder with fill, synced
// to disk and closed, and returns its name ("" when it was not made).
func writeTemp(path string, fill func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return "", err
	}
	if err := fill(f); err != nil {
		f.Close()
		return f.Name(), err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return f.Name(), err
	}
	return f.Name(), f.Close()
}

func uniqueDirs(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if d := filepath.Dir(p); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// manifest writes the CSV the print service reads: a header, then one
// line per letter in the PDF's order.
func manifest(w io.Writer, letters []Letter) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"reference", "recipient", "pages"}); err != nil {
		return err
	}
	for _, l := range letters {
		if err := cw.Write([]string{cell(l.Reference()), cell(l.Message.To.Name), strconv.Itoa(l.Pages)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from reading a name as a formula (OWASP's CSV
// injection advice): a leading = + - @ gets a quote.
func cell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
