package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
	"github.com/relais-fr/relais/storage/sqlite"
)

// printWorld is a database where two tutelles were registered, held by
// Marie: one for Jeanne, whose address is complete, one for Paul, whose
// address has no postal code. Jeanne's letter is printed, Paul's cannot
// be (Marie's two letters depend on the words written so far: the test
// does not count on them).
func printWorld(t *testing.T) (db string, jeanneLetter, paulLetter notices.Notice) {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "relais.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := migrateUp(ctx, st); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	svc := mandates.NewService(st, noticeSink(st, journal.New(st, journal.Options{}), noticeLookup(st, nil)), mandates.ServiceConfig{})
	person := func(given string, a mandates.Address) string {
		p := mandates.Person{ID: mandates.NewID(now), GivenNames: given, FamilyName: "Lefèvre", BirthDate: mandates.Date(1948, time.March, 12), Address: a}
		if err := st.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	operator := person("Olivier", mandates.Address{})
	jeanne := person("Jeanne", mandates.Address{Street: "12 rue des Lilas", PostalCode: "42000", Locality: "Saint-Étienne"})
	paul := person("Paul", mandates.Address{Street: "5 allée des Tilleuls", Locality: "Nantes"})
	marie := person("Marie", mandates.Address{Street: "3 place Carnot", PostalCode: "69002", Locality: "Lyon"})
	if err := st.GrantRole(ctx, operator, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	for i, protected := range []string{jeanne, paul} {
		if _, err := svc.RegisterMeasure(ctx, mandates.Actor{PersonID: operator}, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: protected,
			Representatives: []mandates.RepresentativeInput{{PersonID: marie, Role: mandates.RoleTuteur}},
			ValidFrom:       now.AddDate(0, 0, -1), ValidUntil: now.AddDate(1, 0, 0),
			Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, 0, -10), Reference: fmt.Sprintf("RG 25/0000%d", i+1)}}); err != nil {
			t.Fatal(err)
		}
	}
	letters, err := st.ToPrint(ctx, 10)
	if err != nil || len(letters) != 4 {
		t.Fatalf("%d letters, %v", len(letters), err)
	}
	for _, n := range letters {
		switch n.RecipientID {
		case jeanne:
			jeanneLetter = n
		case paul:
			paulLetter = n
		}
	}
	return "sqlite:" + path, jeanneLetter, paulLetter
}

var senderArgs = []string{"--notice-from", "France Services Nantes", "--notice-address", "4 rue de la Maison Neuve; 44000 Nantes",
	"--notice-phone", "02 40 41 42 43"}

func noticeOf(t *testing.T, db, id string) notices.Notice {
	t.Helper()
	st, err := sqlite.Open(t.Context(), strings.TrimPrefix(db, "sqlite:"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.Notice(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoticesPrint: relais notices print --dry-run lists Jeanne's letter
// and marks nothing; then a run writes the PDF and the manifest, marks
// her letter handed over, and names Marie's, whose address has no postal
// code, on stderr, still pending; a run onto an existing file is refused.
func TestNoticesPrint(t *testing.T) {
	db, jeanne, paul := printWorld(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "batch.pdf")
	cmdline := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), append(append([]string{"notices", "print", "--db", db}, senderArgs...), args...), &stdout, &stderr, func(string) string { return "" })
		return code, stdout.String(), stderr.String()
	}
	ref := words.Reference(jeanne.ID)

	code, stdout, stderr := cmdline("--dry-run")
	if code != 0 || !strings.Contains(stdout, ref+"\tJeanne Lefèvre\trepresentation.created\n") || !strings.Contains(stdout, "letters would be printed; nothing was marked") {
		t.Errorf("dry run: %d\n%s", code, stdout)
	}
	if !strings.Contains(stderr, "letter "+words.Reference(paul.ID)+" (notice "+paul.ID+", representation.created) left out: the postal address is missing or incomplete (postal_code: missing)") {
		t.Errorf("dry run, stderr:\n%s", stderr)
	}
	if n := noticeOf(t, db, jeanne.ID); n.Status != notices.Pending {
		t.Errorf("a dry run marked Jeanne's letter %s", n.Status)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("a dry run wrote %d files", len(es))
	}

	code, stdout, stderr = cmdline("--out", out)
	if code != 0 || !strings.Contains(stdout, " in "+out+", listed in "+filepath.Join(dir, "batch.csv")+", marked handed over.") {
		t.Errorf("print: %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, paul.ID) {
		t.Errorf("Paul's letter is not reported:\n%s", stderr)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "batch.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "reference,recipient,pages\n") || !strings.Contains(string(csv), "\n"+ref+",Jeanne Lefèvre,") ||
		strings.Contains(string(csv), words.Reference(paul.ID)) {
		t.Errorf("manifest %q, %v", csv, err)
	}
	if pdf, err := os.ReadFile(out); err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("batch: %v", err)
	}
	if n := noticeOf(t, db, jeanne.ID); n.Status != notices.HandedOver {
		t.Errorf("Jeanne's letter is %s", n.Status)
	}
	if n := noticeOf(t, db, paul.ID); n.Status != notices.Pending {
		t.Errorf("Paul's letter is %s", n.Status)
	}

	code, _, stderr = cmdline("--out", out, "--manifest", filepath.Join(dir, "other.csv"))
	if code != 2 || !strings.Contains(stderr, out+" already exists") {
		t.Errorf("onto an existing file: %d\n%s", code, stderr)
	}
	code, _, stderr = cmdline("--out", filepath.Join(dir, "b.pdf"), "--notice-phone", "", "--notice-address", "")
	if code != 2 || !strings.Contains(stderr, "--notice-phone") {
		t.Errorf("without a phone: %d\n%s", code, stderr)
	}
}
