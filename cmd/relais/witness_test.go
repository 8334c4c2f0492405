package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

var (
	witnessRunningRe = regexp.MustCompile(`running on (http://[0-9.:]+)/`)
	witnessKeyRe     = regexp.MustCompile(`witness key: (\S+)`)
)

// startWitness runs relais journal witness as a process of its own and
// returns its URL and verifier key.
func startWitness(t *testing.T, bin string, env []string, args ...string) (url, vkey string, stderr *syncBuffer) {
	t.Helper()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd := exec.Command(bin, append([]string{"journal", "witness"}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out := stdout.String()
		if m := witnessRunningRe.FindStringSubmatch(out); m != nil {
			k := witnessKeyRe.FindStringSubmatch(out)
			if k == nil {
				t.Fatalf("the witness printed no key:\n%s", out)
			}
			return m[1], k[1], stderr
		}
		select {
		case err := <-exited:
			t.Fatalf("relais journal witness exited (%v) before listening:\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("relais journal witness did not listen within 60 s:\n%s", stderr)
		}
	}
}

// waitFor polls until cond holds: the two processes share only a file and
// HTTP, so there is no clock to inject.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 60 s", what)
		}
	}
}

func countRows(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rewriteJournal does what an operator holding the database and the
// secret key could: it replaces the person's history by another, removes
// the checkpoints, their notes and cosignatures, writes the chain again,
// and takes the endorsement off the journal key (sealing its private key
// again as before endorsements, which needs the secret key), so that the
// journal alone still verifies once re-signed from checkpoint 1.
func rewriteJournal(t *testing.T, path, person string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DELETE FROM journal_cosignatures`, `DELETE FROM journal_notes`, `DELETE FROM journal_checkpoint_heads`,
		`DELETE FROM journal_checkpoints`, `DELETE FROM journal_entries WHERE chain = '` + person + `'`} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	box, err := keyring.NewSecretBox(bytes.Repeat([]byte{'k'}, 32)) // testSecretKey
	if err != nil {
		t.Fatal(err)
	}
	var id, endorsement string
	var sealed []byte
	if err := db.QueryRowContext(t.Context(), `SELECT id, endorsement, private_sealed FROM journal_keys WHERE generation = 1`).Scan(&id, &endorsement, &sealed); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(endorsement))
	der, err := box.Open(id+"#"+hex.EncodeToString(h[:]), sealed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE journal_keys SET endorsement = '', private_sealed = ? WHERE id = ?`, box.Seal(id, der), id); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j := journal.New(st, journal.Options{})
	e := mandates.Event{Type: mandates.EventActivated, At: time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC), ActorID: "someone-else",
		PersonID: person, ClientID: "caf", Detail: map[string]string{"motif": "autre"}}
	if err := st.InTx(t.Context(), func(ctx context.Context) error { return j.Emit(ctx, e) }); err != nil {
		t.Fatal(err)
	}
}

// TestAWitnessProcessRefusesARewrittenJournal is issue 13's witness test,
// with two Relais processes: relais journal witness, and relais serve
// pointed at it. The service's checkpoint is cosigned and verify --witness
// passes; the journal is then rewritten in SQL and re-signed with the
// secret key, which the journal alone cannot tell; the witness refuses to
// cosign the second history and verify --witness fails, naming why.
func TestAWitnessProcessRefusesARewrittenJournal(t *testing.T) {
	bin := buildRelais(t)
	db, path, person := journalDB(t)
	env := envOf("RELAIS_SECRET_KEY", testSecretKey)
	if code, _, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db); code != 0 {
		t.Fatalf("checkpoint: %s", stderr)
	}
	const issuer = "http://localhost:8080"
	code, vkeys, stderr := runRelais(t, env, "journal", "vkey", "--db", db, "--issuer", issuer)
	if code != 0 || !strings.HasPrefix(vkeys, "localhost:8080/journal+") {
		t.Fatalf("journal vkey: %d %q %s", code, vkeys, stderr)
	}

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "witness.key")
	wURL, wKey, wLog := startWitness(t, bin, processEnv(), "--db", "sqlite:"+filepath.Join(dir, "witness.db"), "--listen", freeAddr(t),
		"--name", "witness.test/relais", "--key", keyFile, "--log-key", strings.TrimSpace(vkeys))
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the witness key file: %v, %v; want mode 0600", fi, err)
	}
	serveArgs := []string{"--db", db, "--issuer", issuer, "--journal-witness", wURL + " " + wKey}
	serveEnv := processEnv("RELAIS_SECRET_KEY=" + testSecretKey)

	// The service asks the witness at start, and keeps its cosignature.
	in, err := startProcess(t, bin, serveEnv, append(serveArgs, "--listen", freeAddr(t))...)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a cosignature stored", func() bool { return countRows(t, path, "journal_cosignatures") == 1 })
	if code := in.stop(); code != 0 {
		t.Fatalf("serve exited with %d: %s", code, in.stderr)
	}
	code, out, stderr := runRelais(t, env, "journal", "verify", "--db", db, "--witness", wKey, "--witnesses-required", "1")
	if code != 0 || !strings.Contains(out, "checkpoint 1 is cosigned by 1 of the 1 witnesses named") {
		t.Fatalf("verify with the witness: %d\n%s%s", code, out, stderr)
	}
	export := filepath.Join(dir, "export.json")
	if code, _, stderr := runRelais(t, noEnv, "journal", "export", "--db", db, "--person", person, "-o", export); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	code, out, stderr = runRelais(t, env, "journal", "verify", "--db", db, "--file", export, "--witness", wKey)
	if code != 0 || !strings.Contains(out, "cosigned by 1 of the 1 witnesses named") {
		t.Fatalf("verify the export with the witness: %d\n%s%s", code, out, stderr)
	}

	// The rewrite, re-signed: without witnesses, nothing shows.
	rewriteJournal(t, path, person)
	if code, _, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db); code != 0 {
		t.Fatalf("checkpoint after the rewrite: %s", stderr)
	}
	if code, out, stderr := runRelais(t, env, "journal", "verify", "--db", db); code != 0 {
		t.Fatalf("the rewritten journal should verify without witnesses (that is why they exist): %d %s%s", code, out, stderr)
	}

	in, err = startProcess(t, bin, serveEnv, append(serveArgs, "--listen", freeAddr(t))...)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the witness's refusal", func() bool { return strings.Contains(in.stderr.String(), "a witness refused") })
	in.stop()
	if !strings.Contains(in.stderr.String(), "status=409") || !strings.Contains(wLog.String(), "second checkpoint 1") {
		t.Errorf("the refusal should be a 409 for a second checkpoint 1:\nservice: %s\nwitness: %s", in.stderr, wLog)
	}
	if n := countRows(t, path, "journal_cosignatures"); n != 0 {
		t.Errorf("%d cosignatures stored for the rewritten history, want 0", n)
	}
	code, out, stderr = runRelais(t, env, "journal", "verify", "--db", db, "--witness", wKey, "--witnesses-required", "1")
	if code == 0 || !strings.Contains(stderr, "not witnessed") {
		t.Errorf("verify with the witness after the rewrite: %d, want a failure naming %q\n%s%s", code, journal.NotWitnessed, out, stderr)
	}
	if code, _, stderr := runRelais(t, noEnv, "journal", "export", "--db", db, "--person", person, "-o", export); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	code, out, stderr = runRelais(t, env, "journal", "verify", "--db", db, "--file", export, "--witness", wKey)
	if code == 0 || !strings.Contains(stderr, "not witnessed") {
		t.Errorf("verify the rewritten export with the witness: %d, want a failure naming %q\n%s%s", code, journal.NotWitnessed, out, stderr)
	}
}

// TestWitnessSettingsAreChecked: a bad witness setting is named.
func TestWitnessSettingsAreChecked(t *testing.T) {
	db, _, _ := journalDB(t)
	testWitnessVKey := witnessVKey(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"required witnesses without keys", []string{"journal", "verify", "--db", db, "--witnesses-required", "1"}, "--witnesses-required needs"},
		{"a witness key that is not one", []string{"journal", "verify", "--db", db, "--witness", "nope"}, "--witness \"nope\""},
		{"more required than named", []string{"journal", "verify", "--db", db, "--witness", testWitnessVKey, "--witnesses-required", "2"}, "from 1 to"},
		{"one witness named twice to count as two", []string{"journal", "verify", "--db", db, "--witness", testWitnessVKey, "--witness", testWitnessVKey, "--witnesses-required", "2"}, "is named twice"},
		{"a negative number of checkpoints left uncosigned", []string{"journal", "verify", "--db", db, "--witness", testWitnessVKey, "--max-unwitnessed", "-1"}, "--max-unwitnessed"},
		{"a serve witness without its key", []string{"serve", "--db", db, "--journal-witness", "http://127.0.0.1:1/"}, "--journal-witness"},
		{"a witness without a name", []string{"journal", "witness", "--db", db, "--log-key", "x"}, "--name is required"},
		{"a witness trusting no journal key", []string{"journal", "witness", "--db", db, "--name", "w.test/w"}, "--log-key is required"},
		{"a witness told to trust a witness key", []string{"journal", "witness", "--db", db, "--name", "w.test/w", "--log-key", testWitnessVKey}, "is not a journal key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runRelais(t, envOf("RELAIS_SECRET_KEY", testSecretKey), tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, %q; want 2 naming %q", code, stderr, tt.want)
			}
		})
	}
}

// witnessVKey is a valid witness key (of a fixed Ed25519 key).
func witnessVKey(t *testing.T) string {
	t.Helper()
	k, err := journal.CosignerKey("w.test/w", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k.String()
}
