package importcsv_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/importcsv"
)

func describe(ps []mandates.ImportProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, importcsv.Describe(p))
	}
	return out
}

func TestReadTakesWhatASpreadsheetWrites(t *testing.T) {
	header := "Given_Names;family_name;birth_date;gender;kind;jurisdiction;decision_reference;decision_date;valid_from;valid_until;procedure_areas;representative_email;role;renewal\n"
	line := "Jeanne Odette;Lefèvre;12/03/1941;F;Tutelle;TJ Lyon;RG 1;2026-10-01;01/10/2026;2030-09-30;papiers Argent;marie@example.fr;tuteur;oui\n"
	for _, tt := range []struct {
		name, file string
	}{
		{"semicolons and a byte order mark", "\ufeff" + header + line},
		{"commas, quoted values and CRLF", strings.ReplaceAll(strings.ReplaceAll(header+line, ";", ","), "\n", "\r\n")},
		{"blank lines between", header + "\n;;;;;;;;;;;;;\n" + line},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lines, problems, err := importcsv.Read(strings.NewReader(tt.file))
			if err != nil || len(problems) > 0 || len(lines) != 1 {
				t.Fatalf("lines %d, problems %v, err %v", len(lines), describe(problems), err)
			}
			l := lines[0]
			if l.Person.GivenNames != "Jeanne Odette" || !l.Person.BirthDate.Equal(mandates.Date(1941, time.March, 12)) || l.Person.Gender != mandates.GenderFemale ||
				l.Kind != mandates.Tutelle || !l.ValidFrom.Equal(mandates.Date(2026, time.October, 1)) || !l.Decision.Renewal ||
				!slices.Equal(l.Areas, []mandates.Area{"papiers", "argent"}) || l.RepresentativeEmail != "marie@example.fr" || l.Role != mandates.RoleTuteur {
				t.Errorf("read %+v", l)
			}
		})
	}
}

func TestReadNamesEveryProblemWithItsLineAndColumn(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{"an empty file", "", []string{"line 1: empty"}},
		{"a header alone", "given_names;family_name;birth_date;gender;kind;jurisdiction;decision_reference;decision_date;valid_from;role;representative_email\n", []string{"line 1: empty"}},
		{"a header with a missing, an unknown and a repeated column",
			"given_names;family_name;birth_date;gender;kind;jurisdiction;decision_reference;decision_date;valid_from;role;role;representative_mail\n",
			[]string{"line 1, column role: duplicate_column", "line 1, column representative_mail: unknown_column", "line 1, column representative_email: missing_column"}},
		{"bad values on two lines, a short line between",
			"given_names;family_name;birth_date;gender;kind;jurisdiction;decision_reference;decision_date;valid_from;role;representative_email;renewal\n" +
				"A;B;1941-13-01;X;tutelle;TJ;RG 1;2026-10-01;2026-10-01;tuteur;a@b.fr;peut-être\n" +
				"A;B\n" +
				"A;B;1941-01-01;F;tutelle_totale;TJ;RG 2;1/10/2026;2026-10-01;tuteur;a@b.fr;\n",
			[]string{"line 2, column birth_date: format", "line 2, column gender: unknown", "line 2, column renewal: unknown", "line 3: field_count",
				"line 4, column kind: unknown", "line 4, column decision_date: format"}},
		{"misplaced quotes stop the reading after the lines before",
			"given_names,family_name,birth_date,gender,kind,jurisdiction,decision_reference,decision_date,valid_from,role,representative_email\n" +
				"A,B,1941-01-01,X,tutelle,TJ,RG 1,2026-10-01,2026-10-01,tuteur,a@b.fr\n" +
				"A,B,1941-01-01,F,tutelle,\"TJ\" Lyon,RG 2,2026-10-01,2026-10-01,tuteur,a@b.fr\n" +
				"A,B,1941-01-01,X,tutelle,TJ,RG 3,2026-10-01,2026-10-01,tuteur,a@b.fr\n",
			[]string{"line 2, column gender: unknown", "line 3: quotes"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, problems, err := importcsv.Read(strings.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(problems); !slices.Equal(got, tt.want) {
				t.Errorf("problems\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestReadFailsWhenTheReaderFails(t *testing.T) {
	broken := errors.New("disk gone")
	_, _, err := importcsv.Read(iotest.ErrReader(broken))
	if !errors.Is(err, broken) {
		t.Errorf("err = %v, want the reader's", err)
	}
}
