package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/importcsv"
	"github.com/relais-fr/relais/mandates/journal"
)

// ImportStore is what a bulk import of measures runs on: the service's
// store, the identité pivot and the journal it writes to.
type ImportStore interface {
	ServiceStore
	mandates.PivotStore
	journal.Store
}

// RunImport runs the bulk import of measures (mandates.ImportMeasures
// through mandates/importcsv) on a real store: a good file, the same file
// again, bad files, a dry run, a decision registered otherwise, each
// time counting what is stored and the journal's length.
func RunImport(t *testing.T, newStore func(t *testing.T) ImportStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, w *importWorld)
	}{
		{"a good file registers its measures, matches known persons by pivot and opens the others' accounts", testImportGood},
		{"the same file twice changes nothing the second time", testImportTwice},
		{"every bad line is reported with its column, the good ones too, and nothing is written", testImportBad},
		{"misplaced quotes after good lines: the good ones are reported, nothing is written", testImportBrokenQuotes},
		{"a dry run says what would happen and writes nothing", testImportDryRun},
		{"a decision registered with another content is a problem of its line", testImportRegisteredOtherwise},
		{"only an operator imports", testImportNotOperator},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			rec := &recorder{}
			w := &importWorld{st: st}
			w.world = buildWorld(t, st, tee{rec, journal.New(st, journal.Options{})}, rec)
			tt.fn(t, w)
		})
	}
}

type importWorld struct {
	*world
	st ImportStore
}

// tee records each event and journals it.
type tee struct {
	rec  *recorder
	sink mandates.EventSink
}

func (t tee) Emit(ctx context.Context, e mandates.Event) error {
	if err := t.sink.Emit(ctx, e); err != nil {
		return err
	}
	return t.rec.Emit(ctx, e)
}

const importHeader = "given_names;family_name;birth_date;birth_place_code;birth_place;birth_country;gender;address_street;address_postal_code;address_locality;email;kind;jurisdiction;decision_reference;decision_date;valid_from;valid_until;procedure_areas;representative_email;representative_organisation;role\n"

// goodFile is what a registry exports: a BOM, « ; », French dates, names
// in capitals without accents; Jeanne is known, Paul and Lucie are not.
func (w *importWorld) goodFile() string {
	return "\ufeff" + importHeader +
		"JEANNE;LEFEVRE;12/03/1948;69123;Lyon;;F;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/100;15/10/2026;29/10/2026;01/10/2030;;marie@example.fr;;tuteur\n" +
		"Jeanne;Lefèvre;1948-03-12;69123;Lyon;99100;female;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/100;2026-10-15;2026-10-29;2030-10-01;;karim@example.fr;;subroge_tuteur\n" +
		"Paul;Durand;1950-06-01;75056;Paris;;M;3 rue Mouffetard;75005;Paris;;curatelle_renforcee;Tribunal judiciaire de Paris;RG 26/101;2026-10-20;2026-11-01;2030-10-01;;;" + w.org + ";curateur\n" +
		"Lucie Anne;Bernard;1962-01-20;;;99134;F;;;;lucie.bernard@example.fr;habilitation_familiale_representation;Tribunal judiciaire de Lyon;RG 26/102;2026-10-21;2026-11-02;2030-10-01;papiers argent;fatima@example.fr;;personne_habilitee\n"
}

var (
	paul  = mandates.Person{GivenNames: "Paul", FamilyName: "Durand", BirthDate: mandates.Date(1950, time.June, 1), BirthPlace: mandates.Place{Code: "75056"}, Gender: mandates.GenderMale}
	lucie = mandates.Person{GivenNames: "Lucie Anne", FamilyName: "Bernard", BirthDate: mandates.Date(1962, time.January, 20), BirthCountry: "99134", Gender: mandates.GenderFemale}
)

func (w *importWorld) importFile(t *testing.T, file string, dryRun bool) mandates.ImportReport {
	t.Helper()
	rep, err := importcsv.Import(t.Context(), w.svc, w.op(), strings.NewReader(file), dryRun)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return rep
}

// stored is what the tests compare before and after an import: the
// journal's length, and the representations of each person concerned.
type stored struct {
	journal int64
	persons map[string]int // by name: how many persons have their pivot
	reps    map[string]int // by name: the representations of the one person with their pivot
}

func (w *importWorld) stored(t *testing.T) stored {
	t.Helper()
	ctx := t.Context()
	heads, err := w.st.JournalHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := stored{persons: map[string]int{}, reps: map[string]int{}}
	for _, h := range heads {
		s.journal += h.Seq
	}
	jeanne, err := w.st.Person(ctx, w.jeanne)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]mandates.Person{"jeanne": jeanne, "paul": paul, "lucie": lucie} {
		found, err := w.st.PersonsByPivot(ctx, mandates.PivotKey(p))
		if err != nil {
			t.Fatal(err)
		}
		s.persons[name] = len(found)
		if len(found) == 1 {
			s.reps[name] = w.count(t, found[0].ID)
		}
	}
	return s
}

func (s stored) String() string {
	return fmt.Sprintf("journal %d entries, persons %v, representations %v", s.journal, s.persons, s.reps)
}

func sameStored(a, b stored) bool {
	return a.journal == b.journal && fmt.Sprint(a.persons) == fmt.Sprint(b.persons) && fmt.Sprint(a.reps) == fmt.Sprint(b.reps)
}

func problemsOf(rep mandates.ImportReport) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, importcsv.Describe(p))
	}
	return out
}

func testImportGood(t *testing.T, w *importWorld) {
	before := w.stored(t)
	rep := w.importFile(t, w.goodFile(), false)
	if len(rep.Problems) > 0 || !rep.Written || rep.DryRun {
		t.Fatalf("problems %v, written %v, dry run %v", problemsOf(rep), rep.Written, rep.DryRun)
	}
	if rep.PersonsCreated != 2 || rep.MeasuresCreated != 3 || rep.AlreadyRegistered != 0 || len(rep.Results) != 4 {
		t.Errorf("report: %d persons created, %d measures, %d already registered, %d results; want 2, 3, 0, 4",
			rep.PersonsCreated, rep.MeasuresCreated, rep.AlreadyRegistered, len(rep.Results))
	}
	if rep.Results[0].PersonID != w.jeanne || rep.Results[0].PersonCreated || rep.Results[2].PersonID == "" || !rep.Results[2].PersonCreated {
		t.Errorf("results %+v: want Jeanne found, Paul created", rep.Results)
	}
	after := w.stored(t)
	if after.reps["jeanne"] != before.reps["jeanne"]+2 || after.persons["paul"] != 1 || after.reps["paul"] != 1 || after.persons["lucie"] != 1 || after.reps["lucie"] != 1 {
		t.Errorf("stored after the import: %v (before: %v)", after, before)
	}
	// 4 representations created, 2 accounts opened: 6 journal entries.
	if after.journal != before.journal+6 {
		t.Errorf("journal grew by %d entries, want 6", after.journal-before.journal)
	}
	lucies, err := w.st.PersonsByPivot(t.Context(), mandates.PivotKey(lucie))
	if err != nil || len(lucies) != 1 {
		t.Fatalf("Lucie by pivot: %v %v", lucies, err)
	}
	if l := lucies[0]; l.Email != "lucie.bernard@example.fr" || l.PasswordHash != "" || l.BirthCountry != "99134" {
		t.Errorf("Lucie stored as %+v", l)
	}
	opened := 0
	for _, e := range w.events.events {
		if e.Type == mandates.EventAccountOpened {
			opened++
			if e.ActorID != w.operator || e.Detail["by"] != "import" || (e.PersonID != lucies[0].ID && e.PersonID != rep.Results[2].PersonID) {
				t.Errorf("account opened: %+v", e)
			}
		}
	}
	if opened != 2 {
		t.Errorf("%d accounts opened, want 2", opened)
	}
	reps, err := w.st.RepresentationsByDecision(t.Context(), mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Reference: "RG 26/102"}.Key())
	if err != nil || len(reps) != 1 {
		t.Fatalf("Lucie's decision: %v %v", reps, err)
	}
	if r := reps[0]; r.Kind != mandates.HabilitationRepresentation || !slices.Equal(r.Areas, []mandates.Area{"papiers", "argent"}) ||
		r.Source.Decision.RegisteredBy != w.operator || !r.ValidUntil.Equal(mandates.Date(2030, time.October, 1)) {
		t.Errorf("Lucie's measure: %+v", r)
	}
}

func testImportTwice(t *testing.T, w *importWorld) {
	w.importFile(t, w.goodFile(), false)
	before := w.stored(t)
	events := len(w.events.types())
	rep := w.importFile(t, w.goodFile(), false)
	if len(rep.Problems) > 0 || rep.MeasuresCreated != 0 || rep.PersonsCreated != 0 || rep.AlreadyRegistered != 3 {
		t.Fatalf("second import: problems %v, %d measures, %d persons, %d already registered; want none, 0, 0, 3",
			problemsOf(rep), rep.MeasuresCreated, rep.PersonsCreated, rep.AlreadyRegistered)
	}
	for _, r := range rep.Results {
		if r.Outcome != mandates.ImportAlreadyRegistered {
			t.Errorf("line %d: %s, want already registered", r.Line, r.Outcome)
		}
	}
	if after := w.stored(t); !sameStored(before, after) {
		t.Errorf("the second import changed the store:\n before %v\n after  %v", before, after)
	}
	if n := len(w.events.types()); n != events {
		t.Errorf("the second import emitted %d events", n-events)
	}
}

func testImportBad(t *testing.T, w *importWorld) {
	ctx := t.Context()
	for range 2 { // homonyms registered on purpose
		p := newPerson("")
		p.GivenNames, p.FamilyName, p.BirthDate = "Ambre", "Roux", mandates.Date(1970, time.May, 5)
		p.ID = mandates.NewID(time.Now())
		if err := w.st.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	file := importHeader +
		"Paul;Durand;1950-06-01;75056;Paris;;M;;;;;curatelle_renforcee;Tribunal judiciaire de Paris;RG 26/201;2026-10-20;2026-11-01;2030-10-01;;;" + w.org + ";curateur\n" +
		"Léa;Petit;31/02/1950;69123;Lyon;;F;;;;;tutelle_totale;Tribunal judiciaire de Lyon;RG 26/202;2026-10-20;2026-11-01;2030-10-01;;marie@example.fr;;tuteur\n" +
		"Hugo;Moreau;1955-02-02;69123;Lyon;;M;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/203;2026-10-20;2026-11-01;2030-10-01;;nobody@example.fr;;tuteur\n" +
		"Ambre;Roux;1948-03-12;69123;Lyon;;F;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/204;2026-10-20;2026-11-01;2030-10-01;;marie@example.fr;;tuteur\n" +
		"Ambre;Roux;1970-05-05;69123;Lyon;;F;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/205;2026-10-20;2026-11-01;2030-10-01;;marie@example.fr;;tuteur\n" +
		"too;few;values\n" +
		"Lucie Anne;Bernard;1962-01-20;;;99134;F;;;;lucie.bernard@example.fr;habilitation_familiale_representation;Tribunal judiciaire de Lyon;RG 26/206;2026-10-21;2026-11-02;2026-10-01;papiers;fatima@example.fr;;personne_habilitee\n" +
		"Jeanne;Lefèvre;1948-03-12;69123;Lyon;;F;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/207;2026-10-15;2026-10-29;2030-10-01;;marie@example.fr;;tuteur\n" +
		// Names without a letter match nobody, and are not one person.
		"-;.;1950-06-01;75056;Paris;;M;;;;;tutelle;Tribunal judiciaire de Paris;RG 26/208;2026-10-20;2026-11-01;2030-10-01;;marie@example.fr;;tuteur\n" +
		"-;Durand;1950-06-01;75056;Paris;;M;;;;;tutelle;Tribunal judiciaire de Paris;RG 26/209;2026-10-20;2026-11-01;2030-10-01;;marie@example.fr;;tuteur\n"
	before := w.stored(t)
	rep := w.importFile(t, file, false)
	want := []string{
		"line 3, column birth_date: format",
		"line 3, column kind: unknown",
		"line 4, column representative_email: unknown",
		"line 6, column given_names: several_persons",
		"line 7: field_count",
		"line 8, column valid_until: after",
		"line 10, column given_names: format",
		"line 11, column given_names: format",
	}
	if got := problemsOf(rep); !slices.Equal(got, want) {
		t.Errorf("problems:\n got  %q\n want %q", got, want)
	}
	if rep.Written {
		t.Error("a file with bad lines was written")
	}
	var lines []int
	for _, r := range rep.Results {
		lines = append(lines, r.Line)
	}
	if !slices.Equal(lines, []int{2, 5, 9}) || rep.MeasuresCreated != 3 || rep.PersonsCreated != 2 {
		t.Errorf("good lines reported %v (%d measures, %d persons), want 2, 5, 9 (3 measures, 2 persons)", lines, rep.MeasuresCreated, rep.PersonsCreated)
	}
	if after := w.stored(t); !sameStored(before, after) {
		t.Errorf("a file with bad lines changed the store:\n before %v\n after  %v", before, after)
	}
	if _, err := w.st.PersonByEmail(ctx, "lucie.bernard@example.fr"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a person of a refused file was stored: %v", err)
	}
}

func testImportBrokenQuotes(t *testing.T, w *importWorld) {
	file := strings.ReplaceAll(importHeader, ";", ",") +
		"Jeanne,Lefèvre,1948-03-12,69123,Lyon,,F,,,,,tutelle,Tribunal judiciaire de Lyon,RG 26/300,2026-10-15,2026-10-29,2030-10-01,,marie@example.fr,,tuteur\n" +
		"\"Paul,Durand,1950-06-01,75056,Paris,,M,,,,,tutelle,\"Tribunal\" judiciaire,RG 26/301,2026-10-15,2026-10-29,2030-10-01,,marie@example.fr,,tuteur\n" +
		"Hugo,Moreau,1955-02-02,69123,Lyon,,M,,,,,tutelle,Tribunal judiciaire de Lyon,RG 26/302,2026-10-20,2026-11-01,2030-10-01,,marie@example.fr,,tuteur\n"
	before := w.stored(t)
	rep := w.importFile(t, file, false)
	if got := problemsOf(rep); !slices.Equal(got, []string{"line 3: quotes"}) {
		t.Errorf("problems %q, want the quotes of line 3", got)
	}
	if len(rep.Results) != 1 || rep.Results[0].Line != 2 || rep.Results[0].Outcome != mandates.ImportNewMeasure || rep.Written {
		t.Errorf("results %+v, written %v: want line 2 reported as a new measure, nothing written", rep.Results, rep.Written)
	}
	if after := w.stored(t); !sameStored(before, after) {
		t.Errorf("a broken file changed the store:\n before %v\n after  %v", before, after)
	}
}

func testImportDryRun(t *testing.T, w *importWorld) {
	before := w.stored(t)
	rep := w.importFile(t, w.goodFile(), true)
	if len(rep.Problems) > 0 || rep.Written || !rep.DryRun || rep.PersonsCreated != 2 || rep.MeasuresCreated != 3 {
		t.Fatalf("dry run: problems %v, written %v, %d persons, %d measures; want none, false, 2, 3",
			problemsOf(rep), rep.Written, rep.PersonsCreated, rep.MeasuresCreated)
	}
	if after := w.stored(t); !sameStored(before, after) {
		t.Errorf("a dry run changed the store:\n before %v\n after  %v", before, after)
	}
	if rep := w.importFile(t, w.goodFile(), false); !rep.Written || rep.MeasuresCreated != 3 {
		t.Errorf("the import after the dry run: written %v, %d measures", rep.Written, rep.MeasuresCreated)
	}
}

func testImportRegisteredOtherwise(t *testing.T, w *importWorld) {
	w.importFile(t, w.goodFile(), false)
	before := w.stored(t)
	file := importHeader +
		"Hugo;Moreau;1955-02-02;69123;Lyon;;M;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/400;2026-10-20;2026-11-01;2030-10-01;;marie@example.fr;;tuteur\n" +
		"Jeanne;Lefèvre;1948-03-12;69123;Lyon;;F;;;;;tutelle;tribunal judiciaire de  LYON;rg 26/100;2026-10-15;2026-10-29;2031-01-01;;marie@example.fr;;tuteur\n" +
		"Jeanne;Lefèvre;1948-03-12;69123;Lyon;;F;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/100;2026-10-15;2026-10-29;2031-01-01;;karim@example.fr;;subroge_tuteur\n"
	rep := w.importFile(t, file, false)
	if got := problemsOf(rep); !slices.Equal(got, []string{"line 3, column decision_reference: registered_otherwise"}) {
		t.Errorf("problems %q, want line 3's decision registered otherwise", got)
	}
	if rep.Written || len(rep.Results) != 1 || rep.Results[0].Line != 2 {
		t.Errorf("written %v, results %+v", rep.Written, rep.Results)
	}
	if after := w.stored(t); !sameStored(before, after) {
		t.Errorf("a refused file changed the store:\n before %v\n after  %v", before, after)
	}
}

func testImportNotOperator(t *testing.T, w *importWorld) {
	before := w.stored(t)
	_, err := importcsv.Import(t.Context(), w.svc, mandates.Actor{PersonID: w.marie}, strings.NewReader(w.goodFile()), false)
	if !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("an import by Marie: %v, want ErrNotPermitted", err)
	}
	if after := w.stored(t); !sameStored(before, after) {
		t.Errorf("a refused import changed the store:\n before %v\n after  %v", before, after)
	}
}
