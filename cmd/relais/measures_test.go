package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
)

// demoDB is a migrated SQLite file with the demo's data, closed again.
func demoDB(t *testing.T) string {
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
	box, err := keyring.NewSecretBox(make([]byte, keyring.SecretKeySize))
	if err != nil {
		t.Fatal(err)
	}
	if err := loadDemo(ctx, st, box, mandates.DefaultPolicy(), io.Discard, time.Now); err != nil {
		t.Fatal(err)
	}
	return "sqlite:" + path
}

func importCmd(t *testing.T, db string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), append([]string{"measures", "import", "--db", db}, args...), &out, &errOut, noEnv)
	return code, out.String(), errOut.String()
}

// TestTheDocumentedExampleImportsIntoTheDemo: docs/measures-import.csv,
// the README's example, imports into the demo's data as the README says:
// two accounts opened, three measures (one with two representatives),
// Fatima found by her identité pivot; again, it changes nothing; a dry
// run writes nothing.
func TestTheDocumentedExampleImportsIntoTheDemo(t *testing.T) {
	db := demoDB(t)
	example := filepath.Join("..", "..", "docs", "measures-import.csv")
	code, out, errOut := importCmd(t, db, "--csv", example, "--operator", "olivier.roux@demo.example", "--dry-run")
	if code != 0 || !strings.Contains(out, "3 measures would be registered, 2 accounts would be opened, 0 already registered.") || !strings.Contains(out, "Dry run") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = importCmd(t, db, "--csv", example, "--operator", "0193a000-0000-7000-8000-000000000009")
	if code != 0 || !strings.Contains(out, "3 measures registered, 2 accounts opened, 0 already registered.") {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "0193a000-0000-7000-8000-000000000008 (found)") {
		t.Errorf("Fatima not found by her pivot:\n%s", out)
	}
	code, out, errOut = importCmd(t, db, "--csv", example, "--operator", "olivier.roux@demo.example")
	if code != 0 || !strings.Contains(out, "0 measures registered, 0 accounts opened, 3 already registered.") {
		t.Fatalf("the same file again: exit %d\n%s%s", code, out, errOut)
	}
}

// TestAWrongFileIsReportedInFrenchAndEnglishAndNothingImported: every
// wrong line, with its line and column, in both languages on stderr; the
// good lines listed; exit 1; then the good file imports as if the wrong
// one had never been tried.
func TestAWrongFileIsReportedInFrenchAndEnglishAndNothingImported(t *testing.T) {
	db := demoDB(t)
	example, err := os.ReadFile(filepath.Join("..", "..", "docs", "measures-import.csv"))
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(example), "20/02/1945;13055", "30/02/1945;13055", 1) +
		"Léon;Martin;;01/01/1950;;;;X;;;;;;;;tutelle;Tribunal judiciaire de Lyon;RG 26/77777;01/10/2026;non;01/10/2026;01/10/2030;;personne@nulle.part;;tuteur;\n"
	file := filepath.Join(t.TempDir(), "wrong.csv")
	if err := os.WriteFile(file, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := importCmd(t, db, "--csv", file, "--operator", "olivier.roux@demo.example")
	for _, want := range []string{
		"Ligne 3, colonne birth_date : écrivez la date ainsi : 12/03/1948 ou 1948-03-12.",
		"Line 3, column birth_date: write the date like this: 12/03/1948 or 1948-03-12.",
		"Ligne 6, colonne gender : écrivez female ou male (ou F ou M).",
		"rien n’a été importé",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code != 1 || !strings.Contains(out, "0193a000-0000-7000-8000-000000000008 (found)") {
		t.Errorf("exit %d, stdout:\n%s", code, out)
	}
	code, out, errOut = importCmd(t, db, "--csv", filepath.Join("..", "..", "docs", "measures-import.csv"), "--operator", "olivier.roux@demo.example")
	if code != 0 || !strings.Contains(out, "3 measures registered, 2 accounts opened, 0 already registered.") {
		t.Errorf("the good file after the wrong one: exit %d\n%s%s", code, out, errOut)
	}
}

// TestOnlyAnOperatorImports: a person who is not an operator, or nobody,
// is a setting to fix (exit 2), and nothing is read.
func TestOnlyAnOperatorImports(t *testing.T) {
	db := demoDB(t)
	example := filepath.Join("..", "..", "docs", "measures-import.csv")
	for _, op := range []string{"marie.martin@demo.example", "nobody@demo.example", ""} {
		code, _, errOut := importCmd(t, db, "--csv", example, "--operator", op)
		if code != 2 || !strings.Contains(errOut, "--operator") {
			t.Errorf("--operator %q: exit %d, %s", op, code, errOut)
		}
	}
}
