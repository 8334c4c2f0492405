package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/sqlite"
)

// journalTarget is a fresh, migrated database of one kind, reached as
// relais is (--db) and as an attacker with write access to it is (raw
// SQL), who does not hold RELAIS_SECRET_KEY.
type journalTarget struct {
	db   string                         // --db
	raw  *sql.DB                        // the attacker's connection
	open func() (journalStoreTB, error) // the store, to write entries as the service does
	now  any                            // a created_at value in the dialect's type
	bind func(string) string            // $1 placeholders to the dialect's
}

type journalStoreTB interface {
	journal.Store
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Close() error
}

func (jt *journalTarget) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := jt.raw.ExecContext(t.Context(), jt.bind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func sqliteJournalTarget(t *testing.T) *journalTarget {
	path := filepath.Join(t.TempDir(), "relais.db")
	jt := &journalTarget{db: "sqlite:" + path, now: time.Now().UnixMilli(),
		bind: func(q string) string { return strings.ReplaceAll(q, "$", "?") }}
	jt.open = func() (journalStoreTB, error) {
		st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	migrateJournalTarget(t, jt)
	// The attacker's connection enforces the foreign keys, as relais's
	// does, so a renumbered entry takes its detail along.
	raw, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	jt.raw = raw
	return jt
}

func postgresJournalTarget(t *testing.T, c *pgtest.Cluster, name string) *journalTarget {
	admin, err := sql.Open("pgx", c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(t.Context(), `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	dsn := c.DSN(name)
	jt := &journalTarget{db: dsn, now: time.Now().UTC(), bind: func(q string) string { return q }}
	jt.open = func() (journalStoreTB, error) {
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	migrateJournalTarget(t, jt)
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	jt.raw = raw
	return jt
}

func migrateJournalTarget(t *testing.T, jt *journalTarget) {
	t.Helper()
	if code, _, stderr := runRelais(t, noEnv, "migrate", "up", "--db", jt.db); code != 0 {
		t.Fatalf("migrate up: %s", stderr)
	}
}

// fill writes a person's chain of six entries and another's of one, with
// three checkpoints signed by relais journal checkpoint along the way,
// and exports the person's journal; it returns the person and the export.
func (jt *journalTarget) fill(t *testing.T, env func(string) string) (person, export string) {
	t.Helper()
	st, err := jt.open()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j := journal.New(st, journal.Options{})
	person = mandates.NewID(time.Now())
	emit := func(p string) {
		e := mandates.Event{Type: mandates.EventActivated, ActorID: "marie", PersonID: p, ClientID: "caf",
			Detail: map[string]string{"motif": "dossier"}}
		if err := st.InTx(t.Context(), func(ctx context.Context) error { return j.Emit(ctx, e) }); err != nil {
			t.Fatal(err)
		}
	}
	checkpoint := func() {
		if code, out, stderr := runRelais(t, env, "journal", "checkpoint", "--db", jt.db); code != 0 {
			t.Fatalf("checkpoint: %d %q %q", code, out, stderr)
		}
	}
	for _, p := range []string{person, person, person, "other"} {
		emit(p)
	}
	checkpoint()
	emit(person)
	emit(person)
	checkpoint()
	emit(person)
	checkpoint()
	export = filepath.Join(t.TempDir(), "journal.json")
	if code, _, stderr := runRelais(t, noEnv, "journal", "export", "--db", jt.db, "--person", person, "-o", export); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	code, out, stderr := runRelais(t, env, "journal", "verify", "--db", jt.db)
	if code != 0 || !strings.Contains(out, "2 chains, 7 entries (0 details erased), 3 checkpoints; 0 entries not yet covered") {
		t.Fatalf("verify before any rewrite: %d %q %q", code, out, stderr)
	}
	return person, export
}

// rehashWithout deletes entry seq of chain and renumbers and re-hashes
// the rest with the journal's own functions, in plain SQL: every link
// of the chain is right again afterwards.
func (jt *journalTarget) rehashWithout(t *testing.T, chain string, seq int64) {
	t.Helper()
	st, err := jt.open()
	if err != nil {
		t.Fatal(err)
	}
	var rows []journal.Stored
	err = st.JournalEntries(t.Context(), chain, func(s journal.Stored) error { rows = append(rows, s); return nil })
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	jt.exec(t, `DELETE FROM journal_entries WHERE chain = $1 AND seq = $2`, chain, seq)
	prev := rows[seq-2].Hash
	for _, r := range rows[seq:] {
		e := r.Entry
		e.Seq, e.Prev = e.Seq-1, prev
		e.Hash = e.ComputeHash()
		jt.exec(t, `UPDATE journal_entries SET seq = $1, prev_hash = $2, hash = $3 WHERE chain = $4 AND seq = $5`,
			e.Seq, e.Prev[:], e.Hash[:], chain, r.Seq)
		prev = e.Hash
	}
}

func (jt *journalTarget) deleteCheckpoints(t *testing.T, where string) {
	t.Helper()
	jt.exec(t, `DELETE FROM journal_checkpoint_heads WHERE checkpoint `+where)
	jt.exec(t, `DELETE FROM journal_checkpoints WHERE number `+where)
}

// attackerSigner signs checkpoints with a key of the attacker's own.
type attackerSigner struct {
	kid  string
	priv *ecdsa.PrivateKey
}

func (a attackerSigner) Sign(_ context.Context, payload []byte) (string, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: a.priv, KeyID: a.kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(journal.PayloadType)))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// TestARewriteOfTheJournalInSQLDoesNotVerify is issue 13's acceptance
// test: whoever can write to the database but does not hold
// RELAIS_SECRET_KEY rewrites the journal in plain SQL, and relais
// journal verify fails each time, naming the cause.
func TestARewriteOfTheJournalInSQLDoesNotVerify(t *testing.T) {
	env := envOf("RELAIS_SECRET_KEY", testSecretKey)
	tests := []struct {
		name    string
		rewrite func(t *testing.T, jt *journalTarget, person, export string) []string // the command that must fail
		want    []string
	}{
		{"a chain re-hashed after an entry was deleted", func(t *testing.T, jt *journalTarget, person, _ string) []string {
			jt.rehashWithout(t, person, 2)
			return []string{"journal", "verify", "--db", jt.db}
		}, []string{"entry 3, checkpoint 1: edited", "the chain was rewritten up to here"}},
		{"a key row added, signing a new checkpoint 1 over the re-hashed chain", func(t *testing.T, jt *journalTarget, person, _ string) []string {
			jt.rehashWithout(t, person, 2)
			jt.deleteCheckpoints(t, ">= 1")
			priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			kid := "journal-AttackerAttackerAttacker"
			pub, _ := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"}.MarshalJSON()
			jt.exec(t, `INSERT INTO journal_keys (id, generation, public_jwk, private_sealed, endorsement, created_at) VALUES ($1, 2, $2, $3, '', $4)`,
				kid, string(pub), []byte("not sealed by relais"), jt.now)
			st, err := jt.open()
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			cp, err := journal.MakeCheckpoint(t.Context(), st, attackerSigner{kid, priv}, journal.CheckpointOptions{})
			if err != nil || cp.Number != 1 {
				t.Fatalf("the attacker's checkpoint: %d, %v", cp.Number, err)
			}
			// relais serve refuses to start with it: it would publish it.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			var out, errOut syncBuffer
			code := run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--db", jt.db}, &out, &errOut, env)
			if code == 0 || !strings.Contains(errOut.String(), "journal key "+kid+" (generation 2) is not trusted") {
				t.Errorf("serve with the added key: exit %d, %q", code, errOut.String())
			}
			return []string{"journal", "verify", "--db", jt.db}
		}, []string{"journal key journal-AttackerAttackerAttacker (generation 2) is not trusted: its private key does not open under the secret key"}},
		{"checkpoints deleted, to be signed again from 1", func(t *testing.T, jt *journalTarget, person, _ string) []string {
			jt.rehashWithout(t, person, 2)
			jt.deleteCheckpoints(t, ">= 1")
			// Relais does not sign a new checkpoint 1 over it either.
			code, _, stderr := runRelais(t, env, "journal", "checkpoint", "--db", jt.db)
			if code == 0 || !strings.Contains(stderr, "checkpoints were deleted") {
				t.Errorf("checkpoint after the checkpoints were deleted: exit %d, %q", code, stderr)
			}
			return []string{"journal", "verify", "--db", jt.db}
		}, []string{"checkpoint 1: checkpoints restarted", "names checkpoint 1, which is no longer stored"}},
		{"a checkpoint deleted from the middle", func(t *testing.T, jt *journalTarget, _, _ string) []string {
			jt.deleteCheckpoints(t, "= 2")
			return []string{"journal", "verify", "--db", jt.db}
		}, []string{"checkpoint 2: checkpoint deleted: checkpoint 3 follows checkpoint 1"}},
		{"a checkpoint replaced by another signed one", func(t *testing.T, jt *journalTarget, _, _ string) []string {
			jt.exec(t, `UPDATE journal_checkpoints SET jws = (SELECT jws FROM journal_checkpoints WHERE number = 3) WHERE number = 2`)
			return []string{"journal", "verify", "--db", jt.db}
		}, []string{"checkpoint 2: checkpoint edited"}},
		{"the checkpoint removed from an export", func(t *testing.T, jt *journalTarget, _, export string) []string {
			var x map[string]any
			b, _ := os.ReadFile(export)
			if err := json.Unmarshal(b, &x); err != nil {
				t.Fatal(err)
			}
			delete(x, "checkpoint")
			b, _ = json.Marshal(x)
			if err := os.WriteFile(export, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"journal", "verify", "--db", jt.db, "--file", export}
		}, []string{"not covered: cannot be verified: no checkpoint covers it"}},
		{"an export made once the checkpoints were deleted", func(t *testing.T, jt *journalTarget, person, export string) []string {
			jt.deleteCheckpoints(t, ">= 1")
			if code, _, stderr := runRelais(t, noEnv, "journal", "export", "--db", jt.db, "--person", person, "-o", export); code != 0 {
				t.Fatalf("export: %s", stderr)
			}
			return []string{"journal", "verify", "--db", jt.db, "--file", export}
		}, []string{"not covered: cannot be verified: no checkpoint covers it"}},
	}
	stores := []struct {
		name   string
		target func(t *testing.T) func(t *testing.T, i int) *journalTarget
	}{
		{"sqlite", func(*testing.T) func(t *testing.T, i int) *journalTarget {
			return func(t *testing.T, _ int) *journalTarget { return sqliteJournalTarget(t) }
		}},
		{"postgres", func(t *testing.T) func(t *testing.T, i int) *journalTarget {
			c := pgtest.StartCluster(t)
			return func(t *testing.T, i int) *journalTarget {
				return postgresJournalTarget(t, c, "rewrite"+string(rune('a'+i)))
			}
		}},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			target := s.target(t)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					jt := target(t, i)
					person, export := jt.fill(t, env)
					args := tt.rewrite(t, jt, person, export)
					code, out, stderr := runRelais(t, env, args...)
					if code != 1 {
						t.Fatalf("%v after the rewrite: exit %d, %q %q; want 1", args, code, out, stderr)
					}
					for _, w := range tt.want {
						if !strings.Contains(stderr, w) {
							t.Errorf("%v: %q does not name %q", args, stderr, w)
						}
					}
				})
			}
		})
	}
}

func TestJournalRotateKeyEndorsesTheNewKeyWithTheCurrentOne(t *testing.T) {
	db, _, _ := journalDB(t)
	env := envOf("RELAIS_SECRET_KEY", testSecretKey)
	if code, _, stderr := runRelais(t, noEnv, "journal", "rotate-key", "--db", db); code != 2 || !strings.Contains(stderr, "RELAIS_SECRET_KEY") {
		t.Errorf("rotate-key without the secret key: exit %d, %q", code, stderr)
	}
	for range 2 {
		if code, out, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db); code != 0 {
			t.Fatalf("checkpoint: %d %q %q", code, out, stderr)
		}
	}
	code, out, stderr := runRelais(t, env, "journal", "rotate-key", "--db", db)
	kid, _, _ := strings.Cut(strings.TrimPrefix(out, "added journal key "), " ")
	if code != 0 || !strings.HasPrefix(kid, "journal-") || !strings.Contains(out, "(generation 2)") {
		t.Fatalf("rotate-key: %d %q %q", code, out, stderr)
	}
	if code, out, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db); code != 0 || !strings.Contains(out, "checkpoint 3 signed by "+kid) {
		t.Fatalf("checkpoint after the rotation: %d %q %q", code, out, stderr)
	}
	// The rotation is journaled in the admin chain, which the next
	// checkpoint covers.
	code, out, stderr = runRelais(t, env, "journal", "verify", "--db", db)
	if code != 0 || !strings.Contains(out, "3 chains, 6 entries (0 details erased), 3 checkpoints; 0 entries not yet covered") {
		t.Errorf("verify after the rotation: %d %q %q", code, out, stderr)
	}
}
