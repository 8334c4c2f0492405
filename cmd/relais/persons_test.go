package main

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices/letter/lettertest"
	"github.com/relais-fr/relais/storage/sqlite"
)

// personsWorld is a migrated database with an operator (op@example.fr)
// and someone who is not one (paul@example.fr).
func personsWorld(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relais.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := migrateUp(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"op@example.fr", "paul@example.fr"} {
		p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Olga", FamilyName: email[:4], BirthDate: mandates.Date(1970, 1, 1), Email: email}
		if err := st.CreatePerson(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		if email == "op@example.fr" {
			if err := st.GrantRole(t.Context(), p.ID, mandates.RoleOperator); err != nil {
				t.Fatal(err)
			}
		}
	}
	return "sqlite:" + path
}

var personsSecretKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))

var roseArgs = []string{"--identity-checked", "--given-names", "Rose Marie", "--family-name", "Durand", "--gender", "female",
	"--birth-date", "1944-05-02", "--birth-place", "Nantes", "--birth-place-code", "44109",
	"--street", "3 rue des Lilas; Bâtiment B", "--postal-code", "44000", "--locality", "Nantes"}

func TestPersonsCreateListShow(t *testing.T) {
	db := personsWorld(t)
	env := map[string]string{"RELAIS_SECRET_KEY": personsSecretKey}
	cli := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, &stdout, &stderr, func(k string) string { return env[k] })
		return code, stdout.String(), stderr.String()
	}
	create := func(extra ...string) (int, string, string) {
		return cli(append(append([]string{"persons", "create", "--db", db, "--operator", "op@example.fr"}, roseArgs...), extra...)...)
	}

	code, stdout, stderr := create()
	m := regexp.MustCompile(`id ([0-9a-f-]{36}), login name (rose\.durand\.\d{4})\.`).FindStringSubmatch(stdout)
	if code != 0 || m == nil || !strings.Contains(stdout, "waits to be sent by paper") {
		t.Fatalf("create: %d\n%s\n%s", code, stdout, stderr)
	}
	rose, login := m[1], m[2]

	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"the same identity again", []string{"persons", "create", "--db", db, "--operator", "op@example.fr"}, "already has an account (" + rose + ")"},
		{"someone who is not an operator", []string{"persons", "create", "--db", db, "--operator", "paul@example.fr"}, "does not name an operator"},
		{"an unknown operator", []string{"persons", "create", "--db", db, "--operator", "nobody@example.fr"}, "--operator \"nobody@example.fr\": no account"},
	}
	for _, r := range refusals {
		code, _, stderr := cli(append(r.args, roseArgs...)...)
		if code != 2 || !strings.Contains(stderr, r.want) {
			t.Errorf("%s: %d\n%s", r.name, code, stderr)
		}
	}
	noStreet := []string{"persons", "create", "--db", db, "--operator", "op@example.fr", "--identity-checked", "--given-names", "Ana", "--family-name", "Lima",
		"--gender", "female", "--birth-date", "1950-01-01", "--postal-code", "44000", "--locality", "Nantes"}
	if code, _, stderr := cli(noStreet...); code != 2 || !strings.Contains(stderr, "--street") {
		t.Errorf("without a street: %d\n%s", code, stderr)
	}
	env = map[string]string{}
	if code, _, stderr := create("--homonym"); code != 2 || !strings.Contains(stderr, "RELAIS_SECRET_KEY") {
		t.Errorf("without the secret key: %d\n%s", code, stderr)
	}
	env = map[string]string{"RELAIS_SECRET_KEY": personsSecretKey}
	if code, stdout, stderr := create("--homonym"); code != 0 || !strings.Contains(stdout, "Opened the account of Rose Durand") {
		t.Errorf("a homonym the operator checked: %d\n%s\n%s", code, stdout, stderr)
	}

	code, stdout, _ = cli("persons", "list", "--db", db, "--operator", "op@example.fr", "--name", "DURAND", "--limit", "1")
	if code != 0 || !strings.Contains(stdout, rose+"  Rose Marie Durand  1944-05-02  no") || !strings.Contains(stdout, "More: add --after "+rose) {
		t.Errorf("list: %d\n%s", code, stdout)
	}
	if code, _, stderr := cli("persons", "list", "--db", db, "--operator", "paul@example.fr"); code != 2 {
		t.Errorf("list by someone who is not an operator: %d\n%s", code, stderr)
	}
	code, stdout, _ = cli("persons", "show", rose, "--db", db, "--operator", "op@example.fr")
	if code != 0 || !strings.Contains(stdout, "login name     "+login) || !strings.Contains(stdout, "address        3 rue des Lilas; Bâtiment B; 44000 Nantes") {
		t.Errorf("show: %d\n%s", code, stdout)
	}
	if code, _, stderr := cli("persons", "show", rose, "--db", db, "--operator", "paul@example.fr"); code != 2 || !strings.Contains(stderr, "no such person") {
		t.Errorf("show by someone who is not an operator: %d\n%s", code, stderr)
	}
}

// TestTheActivationLetterPrintsWithServesKey: relais notices print opens
// the code of an activation letter with --secret-key and names the page
// with --issuer; without the key it leaves the letter out and says why.
func TestTheActivationLetterPrintsWithServesKey(t *testing.T) {
	db := personsWorld(t)
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), append([]string{"persons", "create", "--db", db, "--operator", "op@example.fr", "--secret-key", personsSecretKey}, roseArgs...),
		&stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("create: %d\n%s", code, stderr.String())
	}
	login := regexp.MustCompile(`rose\.durand\.\d{4}`).FindString(stdout.String())
	print := func(env map[string]string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), append(append([]string{"notices", "print", "--db", db}, senderArgs...), args...), &stdout, &stderr, func(k string) string { return env[k] })
		return code, stdout.String(), stderr.String()
	}
	code, out, errs := print(nil, "--dry-run")
	if code != 0 || !strings.Contains(errs, "account.activation_sent) left out: it carries an account code, which only serve's key opens: give --secret-key (RELAIS_SECRET_KEY)") ||
		!strings.Contains(out, "0 letters would be printed") {
		t.Errorf("without the key: %d\n%s\n%s", code, out, errs)
	}
	pdf := filepath.Join(t.TempDir(), "batch.pdf")
	code, out, errs = print(map[string]string{"RELAIS_SECRET_KEY": personsSecretKey, "RELAIS_ISSUER": "https://relais.example.fr"}, "--out", pdf)
	if code != 0 || !strings.Contains(out, "1 letters") {
		t.Fatalf("with the key: %d\n%s\n%s", code, out, errs)
	}
	text := lettertest.Run(t, "pdftotext", "-layout", pdf, "-")
	code6 := regexp.MustCompile(`[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}`).FindString(text)
	if code6 == "" || !strings.Contains(text, "https://relais.example.fr/activer") || !strings.Contains(text, login) {
		t.Errorf("the letter does not give the code, the page and the login name %s:\n%s", login, text)
	}
}
