package ui_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

const importCSVHeader = "given_names;family_name;birth_date;birth_place_code;gender;kind;jurisdiction;decision_reference;decision_date;valid_from;valid_until;representative_email;role\n"

// postCSV sends body as the import's file and decodes the JSON answer.
func (u *boUser) postCSV(path, ctype, body string) (int, map[string]any) {
	u.t.Helper()
	req, err := http.NewRequestWithContext(u.t.Context(), http.MethodPost, u.app.srv.URL+path, strings.NewReader(body))
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	res, err := u.c.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	text := readBody(u.t, res)
	if res.StatusCode >= 500 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		u.t.Fatalf("POST %s: %d %q\n%.1000s", path, res.StatusCode, res.Header.Get("Content-Type"), text)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		u.t.Fatalf("POST %s: %v\n%s", path, err, text)
	}
	return res.StatusCode, out
}

func importLines(out map[string]any) []float64 {
	var lines []float64
	for _, l := range out["lines"].([]any) {
		lines = append(lines, l.(map[string]any)["line"].(float64))
	}
	return lines
}

func TestTheImportAPIRegistersAFileOnceAndRefusesWhatIsWrong(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	good := importCSVHeader +
		"Gisèle;Faure;1939-05-06;69123;F;tutelle;Tribunal judiciaire de Lyon;RG 26/50001;2026-01-10;2026-02-01;2030-01-31;" + c.marie.Email + ";tuteur\n" +
		"Henri;Faure;1937-11-30;69123;M;curatelle_renforcee;Tribunal judiciaire de Lyon;RG 26/50002;2026-01-10;2026-02-01;2030-01-31;" + c.karim.Email + ";curateur\n"
	gisele := mandates.Person{GivenNames: "Gisèle", FamilyName: "Faure", BirthDate: mandates.Date(1939, 5, 6), BirthPlace: mandates.Place{Code: "69123"}, Gender: mandates.GenderFemale}
	stored := func() (persons, measures int) {
		t.Helper()
		found, err := app.store.PersonsByPivot(t.Context(), mandates.PivotKey(gisele))
		if err != nil {
			t.Fatal(err)
		}
		return len(found), op.measureCount()
	}
	persons0, measures0 := stored()

	t.Run("refusals: not signed in, not an operator, not CSV, a malformed body, a bad dry_run", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			user   *boUser
			path   string
			ctype  string
			body   string
			status int
			code   string
		}{
			{"nobody signed in", boAs(t, app, nil), "/api/v1/measures/import", "text/csv", good, 401, "login_required"},
			{"a person who is not an operator", boAs(t, app, &c.marie), "/api/v1/measures/import", "text/csv", good, 403, "access_denied"},
			{"a body sent as JSON", op, "/api/v1/measures/import", "application/json", good, 415, "unsupported_media_type"},
			{"a body that is not the CSV of the import", op, "/api/v1/measures/import", "text/csv; charset=utf-8", `{"kind":"tutelle"}`, 400, "invalid_request"},
			{"an empty body", op, "/api/v1/measures/import", "text/csv", "", 400, "invalid_request"},
			{"dry_run neither true nor false", op, "/api/v1/measures/import?dry_run=maybe", "text/csv", good, 400, "invalid_request"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				status, out := tt.user.postCSV(tt.path, tt.ctype, tt.body)
				if status != tt.status || out["error"] != tt.code || out["error_description"] == "" {
					t.Errorf("%d %v, want %d %s with a description", status, out, tt.status, tt.code)
				}
			})
		}
		if p, m := stored(); p != persons0 || m != measures0 {
			t.Errorf("refused requests stored something: %d persons, %d measures (before %d, %d)", p, m, persons0, measures0)
		}
	})

	t.Run("a malformed line after good lines: the good ones reported, every problem said, nothing written", func(t *testing.T) {
		bad := good + "Irène;Faure;31/02/1940;69123;F;tutelle;Tribunal judiciaire de Lyon;RG 26/50003;2026-01-10;2026-02-01;2030-01-31;" + c.marie.Email + ";tuteur\n" +
			"Jules;Faure;1941-01-01;69123;M;tutelle;Tribunal judiciaire de Lyon;RG 26/50004;2026-01-10;2026-02-01;2030-01-31;personne@nulle.part;tuteur\n"
		status, out := op.postCSV("/api/v1/measures/import", "text/csv", bad)
		if status != 400 || out["written"] != false || out["error"] != "invalid_request" {
			t.Fatalf("%d %v", status, out)
		}
		if got := importLines(out); len(got) != 2 || got[0] != 2 || got[1] != 3 {
			t.Errorf("good lines reported %v, want 2 and 3", got)
		}
		problems := out["problems"].([]any)
		if len(problems) != 2 {
			t.Fatalf("problems %v, want 2", problems)
		}
		first, second := problems[0].(map[string]any), problems[1].(map[string]any)
		if first["line"] != 4.0 || first["column"] != "birth_date" || !strings.HasPrefix(first["description"].(string), "Ligne 4, colonne birth_date : ") ||
			!strings.HasPrefix(first["description_en"].(string), "Line 4, column birth_date: ") {
			t.Errorf("first problem %v", first)
		}
		if second["line"] != 5.0 || second["column"] != "representative_email" || second["rule"] != "unknown" {
			t.Errorf("second problem %v", second)
		}
		if p, m := stored(); p != persons0 || m != measures0 {
			t.Errorf("a refused file stored something: %d persons, %d measures (before %d, %d)", p, m, persons0, measures0)
		}
	})

	t.Run("a dry run says what would happen and writes nothing", func(t *testing.T) {
		status, out := op.postCSV("/api/v1/measures/import?dry_run=true", "text/csv", good)
		if status != 200 || out["dry_run"] != true || out["written"] != false || out["measures_registered"] != 2.0 || out["accounts_opened"] != 2.0 {
			t.Fatalf("%d %v", status, out)
		}
		if p, m := stored(); p != persons0 || m != measures0 {
			t.Errorf("a dry run stored something: %d persons, %d measures", p, m)
		}
	})

	t.Run("the file is imported, then imported again without change", func(t *testing.T) {
		status, out := op.postCSV("/api/v1/measures/import", "text/csv", good)
		if status != 200 || out["written"] != true || out["measures_registered"] != 2.0 || out["accounts_opened"] != 2.0 {
			t.Fatalf("%d %v", status, out)
		}
		if p, m := stored(); p != persons0+1 || m != measures0+2 {
			t.Errorf("after the import: %d persons like Gisèle, %d measures (before %d, %d)", p, m, persons0, measures0)
		}
		status, out = op.postCSV("/api/v1/measures/import", "text/csv", good)
		if status != 200 || out["measures_registered"] != 0.0 || out["accounts_opened"] != 0.0 || out["already_registered"] != 2.0 {
			t.Fatalf("again: %d %v", status, out)
		}
		if p, m := stored(); p != persons0+1 || m != measures0+2 {
			t.Errorf("the second import changed the store: %d persons, %d measures", p, m)
		}
	})
}
