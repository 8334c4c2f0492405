package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

func newPerson(family string) mandates.Person {
	return mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Louis", FamilyName: family, BirthDate: mandates.Date(1961, 6, 30)}
}

// TestALostCommit: a COMMIT that reports a lost server (as during a
// failover) may have gone through or not. The transaction's write key,
// chosen before its first attempt, tells which: a write that went through
// is not applied twice, one that did not is applied once, and a
// transaction whose fn may not run again (mandates.WithoutRetry) learns
// the truth instead of an error when its COMMIT did go through.
func TestALostCommit(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	for _, tc := range []struct {
		name        string
		committed   []bool // each lost COMMIT: whether it went through
		noRetry     bool
		wantRuns    int
		wantErr     error
		wantWritten bool
	}{
		{"went through", []bool{true}, false, 1, nil, true},
		{"did not go through", []bool{false}, false, 2, nil, true},
		{"went through, fn runs once", []bool{true}, true, 1, nil, true},
		{"did not go through, fn runs once", []bool{false}, true, 1, mandates.ErrUnavailable, false},
		// The question's own answer is lost too, though it went
		// through: the first COMMIT still did not.
		{"did not go through, fn runs once, the question lost", []bool{false, true}, true, 1, mandates.ErrUnavailable, false},
		{"did not go through, then went through", []bool{false, true}, false, 2, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, pgtest.NewDatabaseFrom(t, tmpl))
			lost := s.LoseCommits(tc.committed...)
			p := newPerson("Petit")
			ctx := t.Context()
			if tc.noRetry {
				ctx = mandates.WithoutRetry(ctx)
			}
			runs := 0
			err := s.InTx(ctx, func(ctx context.Context) error {
				runs++
				return s.CreatePerson(ctx, p)
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("InTx = %v, want %v", err, tc.wantErr)
			}
			if lost() != len(tc.committed) {
				t.Fatalf("%d commits lost, want %d", lost(), len(tc.committed))
			}
			if runs != tc.wantRuns {
				t.Errorf("fn ran %d times, want %d", runs, tc.wantRuns)
			}
			_, err = s.Person(t.Context(), p.ID)
			if written := err == nil; written != tc.wantWritten {
				t.Errorf("person written: %v (%v), want %v", written, err, tc.wantWritten)
			}
			// Each attempt that committed holds the one key.
			if n, err := s.WriteKeys(t.Context()); err != nil || n != 1 {
				t.Errorf("write keys: %d, %v; want 1", n, err)
			}
		})
	}
}

// TestAStatementWaitsForTheServer: a write (a transaction) or a read
// made while the server is away (a failover in progress) waits for it,
// within FailoverWait, instead of failing; with no wait allowed it fails
// at once with ErrUnavailable.
func TestAStatementWaitsForTheServer(t *testing.T) {
	c := pgtest.StartCluster(t)
	dsn := c.DSN("postgres")
	if err := migrate(t.Context(), dsn); err != nil {
		t.Fatal(err)
	}
	waits, err := postgres.Open(t.Context(), dsn, postgres.Options{FailoverWait: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer waits.Close()
	impatient, err := postgres.Open(t.Context(), dsn, postgres.Options{FailoverWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()

	known := newPerson("Connu")
	if err := waits.CreatePerson(t.Context(), known); err != nil {
		t.Fatal(err)
	}

	c.Stop(t)
	if err := impatient.CreatePerson(t.Context(), newPerson("Sans-attente")); !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("CreatePerson with no wait while down = %v, want ErrUnavailable", err)
	}
	if _, err := impatient.Person(t.Context(), known.ID); !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("Person with no wait while down = %v, want ErrUnavailable", err)
	}
	p := newPerson("Patient")
	wrote := make(chan error, 1)
	go func() { wrote <- waits.CreatePerson(t.Context(), p) }()
	read := make(chan error, 1)
	go func() {
		got, err := waits.Person(t.Context(), known.ID)
		if err == nil && got.FamilyName != "Connu" {
			err = fmt.Errorf("read %q", got.FamilyName)
		}
		read <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("CreatePerson returned while the server was down: %v", err)
	case err := <-read:
		t.Fatalf("Person returned while the server was down: %v", err)
	case <-time.After(time.Second):
	}
	c.Start(t)
	for name, done := range map[string]chan error{"CreatePerson": wrote, "Person": read} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s after the server came back: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s still waiting 30 s after the server came back", name)
		}
	}
	if got, err := waits.Person(t.Context(), p.ID); err != nil || got.FamilyName != "Patient" {
		t.Errorf("Person after the wait: %+v, %v", got, err)
	}
}

// TestWriteKeysAreDeletedWhenOld: the cleanup deletes the keys written
// before its cut-off, in batches, and keeps the newer ones.
func TestWriteKeysAreDeletedWhenOld(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	s := open(t, pgtest.NewDatabaseFrom(t, tmpl))
	for range 3 {
		if err := s.CreatePerson(t.Context(), newPerson("Clé")); err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.WriteKeys(t.Context())
	if err != nil || before < 3 {
		t.Fatalf("write keys after three writes: %d, %v", before, err)
	}
	if n, err := s.DeleteExpired(t.Context(), mandates.ExpiredWriteKeys, time.Now().Add(-time.Hour), 10); err != nil || n != 0 {
		t.Errorf("DeleteExpired(an hour ago) = %d, %v; want 0: the keys are new", n, err)
	}
	if n, err := s.DeleteExpired(t.Context(), mandates.ExpiredWriteKeys, time.Now().Add(time.Minute), 2); err != nil || n != 2 {
		t.Errorf("DeleteExpired(limit 2) = %d, %v; want 2", n, err)
	}
	// Each of the two deletions' own transactions wrote a key too.
	if left, err := s.WriteKeys(t.Context()); err != nil || left != before-2+2 {
		t.Errorf("write keys left: %d, %v; want %d", left, err, before-2+2)
	}
}

// TestARetryWaitsForItsKeyNoLongerThanTheFailover: an earlier attempt
// whose connection the server has not yet seen go still holds the key;
// the retry waits for it at most its bound, then says the server is away
// (to be asked again), instead of waiting as long as the server takes.
func TestARetryWaitsForItsKeyNoLongerThanTheFailover(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	s := open(t, pgtest.NewDatabaseFrom(t, tmpl))
	key := mandates.NewID(time.Now())
	release, err := s.HoldKey(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	start := time.Now()
	err = s.TryKey(t.Context(), key, 300*time.Millisecond)
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("the retry waited %s for its key, bound 300ms", waited)
	}
	if !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("TryKey while another holds the key = %v, want ErrUnavailable", err)
	}
	release()
	if err := s.TryKey(t.Context(), key, 300*time.Millisecond); err != nil {
		t.Errorf("TryKey once the holder rolled back = %v, want nil", err)
	}
}
