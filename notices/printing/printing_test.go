package printing_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
	"github.com/relais-fr/relais/notices/printing"
)

var t0 = time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC)

// outbox is the store of the tests: pending letters, and a mark that is
// all or none, as the real stores' (notices.ApplyHandOver).
type outbox struct {
	byID     map[string]notices.Notice
	order    []string
	marks    int // calls of MarkHandedOver that marked
	failMark error
}

func (o *outbox) ToPrint(_ context.Context, limit int) ([]notices.Notice, error) {
	var out []notices.Notice
	for _, id := range o.order {
		if n := o.byID[id]; n.Channel == notices.Paper && n.Status == notices.Pending && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

func (o *outbox) MarkHandedOver(_ context.Context, ids []string, at time.Time) error {
	if o.failMark != nil {
		return o.failMark
	}
	next := map[string]notices.Notice{}
	for _, id := range ids {
		n, err := notices.ApplyHandOver(o.byID[id], at)
		if err != nil {
			return err
		}
		next[id] = n
	}
	for id, n := range next {
		o.byID[id] = n
	}
	o.marks++
	return nil
}

func (o *outbox) handedOver() []string {
	var out []string
	for _, id := range o.order {
		if o.byID[id].Status == notices.HandedOver {
			out = append(out, id)
		}
	}
	return out
}

// people of the tests: each recipient's name and address.
var people = map[string]notices.Recipient{}

func person(name string, a mandates.Address) string {
	id := mandates.NewID(t0)
	people[id] = notices.Recipient{Name: name, Address: a}
	return id
}

var (
	jeanne = person("Jeanne Lefèvre", mandates.Address{Street: "12 rue des Lilas", PostalCode: "42000", Locality: "Saint-Étienne"})
	paul   = person("=Paul Martin", mandates.Address{Street: "3 place Carnot", PostalCode: "69002", Locality: "Lyon"})
	// karim has no postal code: his letter cannot be printed.
	karim = person("Karim Benali", mandates.Address{Street: "5 allée des Tilleuls", Locality: "Nantes"})
	// long's street line is too wide for the window, which only the
	// layout finds.
	long = person("Ana Lopes", mandates.Address{Street: "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", PostalCode: "44000", Locality: "Nantes"})
)

// words is the Writer of the tests: a subject, one line (many for a
// notice whose data asks for two pages), the recipient's address.
type words struct {
	// fail, when set, is returned for the notice at this index of writes
	// (from 1), and cancel is called there.
	failAt int
	fail   error
	cancel func()
	writes int
}

func (w *words) Write(_ context.Context, n notices.Notice) (notices.Message, error) {
	w.writes++
	if w.writes == w.failAt {
		if w.cancel != nil {
			w.cancel()
		}
		if w.fail != nil {
			return notices.Message{}, w.fail
		}
	}
	lines := []string{"Votre tutelle est en pause."}
	if n.Data["long"] == "yes" {
		lines = slices.Repeat([]string{"Une ligne de plus, pour que la lettre prenne deux pages."}, 20)
	}
	return notices.Message{ID: n.ID, Reference: "N-" + n.ID[len(n.ID)-6:], Lang: "fr", Date: n.CreatedAt,
		To: people[n.RecipientID], Subject: "Votre tutelle est en pause", Lines: lines}, nil
}

func world(t *testing.T, recipients ...string) (*outbox, *printing.Run, *words) {
	t.Helper()
	p, err := letter.NewPrinter(letter.Letterhead{Name: "France Services Nantes", Address: []string{"4 rue de la Maison Neuve", "44000 Nantes"},
		Phone: "02 40 41 42 43"})
	if err != nil {
		t.Fatal(err)
	}
	o := &outbox{byID: map[string]notices.Notice{}}
	for i, r := range recipients {
		at := t0.Add(time.Duration(i) * time.Minute)
		n := notices.Notice{ID: mandates.NewID(at), PersonID: jeanne, RecipientID: r, RecipientKind: notices.ToPerson,
			Kind: mandates.EventSuspended, Channel: notices.Paper, Lang: "fr", Data: map[string]string{}, Status: notices.Pending,
			NextAttemptAt: at, CreatedAt: at, Version: 1}
		if i == 1 {
			n.Data["long"] = "yes"
		}
		o.byID[n.ID], o.order = n, append(o.order, n.ID)
	}
	w := &words{}
	return o, &printing.Run{Store: o, Writer: w, Printer: p, Now: func() time.Time { return t0.Add(time.Hour) }}, w
}

// files lists what a folder holds, temporary files included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestACompleteRunMarksEveryPrintedLetter(t *testing.T) {
	o, run, _ := world(t, jeanne, paul, karim, long)
	dir := t.TempDir()
	pdf, csv := filepath.Join(dir, "batch.pdf"), filepath.Join(dir, "batch.csv")
	plan, err := run.Print(t.Context(), pdf, csv)
	if err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"batch.csv", "batch.pdf"}) {
		t.Errorf("the folder holds %v", got)
	}
	printed := []string{o.order[0], o.order[1]}
	if got := o.handedOver(); !slices.Equal(got, printed) || o.marks != 1 {
		t.Errorf("handed over %v in %d marks, want %v in one", got, o.marks, printed)
	}
	for _, id := range printed {
		if at := o.byID[id].HandedOverAt; !at.Equal(t0.Add(time.Hour)) {
			t.Errorf("%s handed over at %v", id, at)
		}
	}
	if len(plan.Letters) != 2 || plan.Letters[0].Pages != 1 || plan.Letters[1].Pages != 2 {
		t.Errorf("letters %+v", plan.Letters)
	}
	// The letters left out: Karim's (no postal code, found by the
	// address block) and Ana's (a line too wide, found by the layout).
	if len(plan.Unprintable) != 2 {
		t.Fatalf("unprintable = %+v", plan.Unprintable)
	}
	for i, want := range []struct {
		id    string
		field string
		rule  letter.AddressRule
	}{{o.order[2], "postal_code", letter.RuleMissing}, {o.order[3], "street", letter.RuleTooWide}} {
		u := plan.Unprintable[i]
		var ae *letter.AddressError
		if u.Notice.ID != want.id || !errors.As(u.Reason, &ae) || ae.Field != want.field || ae.Rule != want.rule {
			t.Errorf("unprintable %d = %+v (%v), want %s %s %s", i, u.Notice.ID, u.Reason, want.id, want.field, want.rule)
		}
		if o.byID[u.Notice.ID].Status != notices.Pending {
			t.Errorf("%s is no longer pending", u.Notice.ID)
		}
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	want := "reference,recipient,pages\n" +
		"N-" + o.order[0][30:] + ",Jeanne Lefèvre,1\n" +
		"N-" + o.order[1][30:] + ",'=Paul Martin,2\n"
	if string(b) != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", b, want)
	}
	pdfBytes, err := os.ReadFile(pdf)
	if err != nil || !strings.HasPrefix(string(pdfBytes), "%PDF-") || !strings.Contains(string(pdfBytes), "%%EOF") {
		t.Errorf("the batch is not a whole PDF (%d bytes, %v)", len(pdfBytes), err)
	}
	// A second run finds nothing left but the two letters that cannot be
	// printed, and writes no file.
	dir2 := t.TempDir()
	plan, err = run.Print(t.Context(), filepath.Join(dir2, "b.pdf"), filepath.Join(dir2, "b.csv"))
	if err != nil || len(plan.Letters) != 0 || len(plan.Unprintable) != 2 || len(files(t, dir2)) != 0 {
		t.Errorf("second run: %+v, %v, files %v", plan, err, files(t, dir2))
	}
}

func TestARunStoppedHalfwayMarksNothing(t *testing.T) {
	errDisk := errors.New("disk full")
	for _, tc := range []struct {
		name  string
		setup func(ctx context.Context, run *printing.Run, w *words) context.Context
		want  error
	}{
		{"the writer fails at the second letter", func(ctx context.Context, _ *printing.Run, w *words) context.Context {
			w.failAt, w.fail = 2, errDisk
			return ctx
		}, errDisk},
		{"the run is cancelled at the second letter", func(ctx context.Context, _ *printing.Run, w *words) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			w.failAt, w.cancel = 2, cancel
			return ctx
		}, context.Canceled},
		{"the batch cannot be put in place", func(ctx context.Context, run *printing.Run, _ *words) context.Context {
			run.Rename = func(string, string) error { return errDisk }
			return ctx
		}, errDisk},
		{"the manifest cannot be put in place", func(ctx context.Context, run *printing.Run, _ *words) context.Context {
			run.Rename = func(from, to string) error {
				if strings.HasSuffix(to, ".csv") {
					return errDisk
				}
				return os.Rename(from, to)
			}
			return ctx
		}, errDisk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, run, w := world(t, jeanne, paul, karim)
			ctx := tc.setup(t.Context(), run, w)
			dir := t.TempDir()
			_, err := run.Print(ctx, filepath.Join(dir, "batch.pdf"), filepath.Join(dir, "batch.csv"))
			if !errors.Is(err, tc.want) {
				t.Errorf("Print: %v, want %v", err, tc.want)
			}
			if got := o.handedOver(); len(got) != 0 || o.marks != 0 {
				t.Errorf("handed over %v", got)
			}
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("the folder holds %v", got)
			}
		})
	}
}

func TestAFailedMarkLeavesNoBatch(t *testing.T) {
	o, run, _ := world(t, jeanne, paul)
	o.failMark = mandates.ErrConflict
	dir := t.TempDir()
	if _, err := run.Print(t.Context(), filepath.Join(dir, "batch.pdf"), filepath.Join(dir, "batch.csv")); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("Print: %v", err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Errorf("the folder holds %v", got)
	}
}

func TestADryRunMarksNothing(t *testing.T) {
	o, run, _ := world(t, jeanne, paul, karim)
	plan, err := run.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Letters) != 2 || len(plan.Unprintable) != 1 || plan.Letters[0].Message.To.Name != "Jeanne Lefèvre" ||
		plan.Letters[0].Reference() != "N-"+o.order[0][30:] || !errors.Is(plan.Unprintable[0].Reason, letter.ErrAddress) {
		t.Errorf("plan = %+v", plan)
	}
	if got := o.handedOver(); len(got) != 0 {
		t.Errorf("handed over %v", got)
	}
}

func TestARunNeverReplacesAFile(t *testing.T) {
	o, run, _ := world(t, jeanne)
	dir := t.TempDir()
	pdf := filepath.Join(dir, "batch.pdf")
	if err := os.WriteFile(pdf, []byte("last week's batch"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][2]string{{pdf, filepath.Join(dir, "batch.csv")}, {filepath.Join(dir, "new.pdf"), pdf},
		{filepath.Join(dir, "same"), filepath.Join(dir, "same")}} {
		if _, err := run.Print(t.Context(), paths[0], paths[1]); !errors.Is(err, printing.ErrExists) {
			t.Errorf("Print(%v): %v", paths, err)
		}
	}
	if b, _ := os.ReadFile(pdf); string(b) != "last week's batch" || len(o.handedOver()) != 0 {
		t.Error("the run replaced the file or marked letters")
	}
}

func TestCheckerSaysWhichLettersCannotBePrinted(t *testing.T) {
	o, run, _ := world(t, jeanne, karim)
	c := printing.Checker{Writer: run.Writer}
	for i, want := range []printing.Problem{printing.NoProblem, printing.ProblemAddress} {
		got, err := c.Problem(t.Context(), o.byID[o.order[i]])
		if err != nil || got != want {
			t.Errorf("letter %d: %q, %v; want %q", i, got, err, want)
		}
	}
	sent := o.byID[o.order[1]]
	sent.Channel, sent.Status = notices.Email, notices.Sent
	if got, err := c.Problem(t.Context(), sent); got != printing.NoProblem || err != nil {
		t.Errorf("an email sent: %q, %v", got, err)
	}
	gone := &words{failAt: 1, fail: &notices.PermanentError{Channel: notices.Paper, Code: "recipient", Err: mandates.ErrNotFound}}
	if got, err := (printing.Checker{Writer: gone}).Problem(t.Context(), o.byID[o.order[0]]); got != printing.ProblemUnwritable || err != nil {
		t.Errorf("a recipient who no longer exists: %q, %v", got, err)
	}
}

func TestALetterThatCanNeverBeWrittenIsLeftOut(t *testing.T) {
	o, run, w := world(t, jeanne, paul)
	w.failAt, w.fail = 1, &notices.PermanentError{Channel: notices.Paper, Code: "recipient", Err: mandates.ErrNotFound}
	dir := t.TempDir()
	plan, err := run.Print(t.Context(), filepath.Join(dir, "batch.pdf"), filepath.Join(dir, "batch.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Unprintable) != 1 || plan.Unprintable[0].Notice.ID != o.order[0] ||
		printing.ProblemOf(plan.Unprintable[0].Reason) != printing.ProblemUnwritable {
		t.Errorf("unprintable = %+v", plan.Unprintable)
	}
	if got := o.handedOver(); !slices.Equal(got, o.order[1:]) {
		t.Errorf("handed over %v", got)
	}
}
