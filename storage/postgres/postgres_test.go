package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/storagetest"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv("RELAIS_TEST_JOURNAL_DSN"); dsn != "" {
		// A child process of TestJournalTwoProcesses, not a test run.
		if err := journalAppendChild(dsn); err != nil {
			fmt.Fprintln(os.Stderr, "journal child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	pgtest.Main(m)
}

func migrate(ctx context.Context, dsn string) error {
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := s.Migrations()
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = p.Up(ctx)
	return err
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.Run(t, func(t *testing.T) storagetest.Store {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}

func TestMigrationsAreIdempotent(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	for range 2 {
		if err := migrate(t.Context(), dsn); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	s := open(t, dsn)
	p, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pending, err := p.HasPending(t.Context())
	if err != nil || pending {
		t.Errorf("after up: pending = %v, %v", pending, err)
	}
}

// TestOutageAndRecovery: while the server is down, calls fail with
// ErrUnavailable (not a hang, not a panic); when it is back, the same store
// works again without being reopened. The store does not wait for a new
// server here: TestAStatementWaitsForTheServer shows the wait.
func TestOutageAndRecovery(t *testing.T) {
	c := pgtest.StartCluster(t)
	dsn := c.DSN("postgres")
	if err := migrate(t.Context(), dsn); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{FailoverWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Louis", FamilyName: "Petit", BirthDate: mandates.Date(1961, 6, 30)}
	if err := s.CreatePerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}

	c.Stop(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Ping(ctx); !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("Ping while down: %v, want ErrUnavailable", err)
	}
	if _, err := s.Person(ctx, p.ID); !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("Person while down: %v, want ErrUnavailable", err)
	}

	c.Start(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping after restart: %v", err)
	}
	if got, err := s.Person(t.Context(), p.ID); err != nil || got.FamilyName != "Petit" {
		t.Errorf("Person after restart: %+v, %v", got, err)
	}
}

func TestOpenRefusesAnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there.
	_, err := postgres.Open(ctx, "postgres://relais@127.0.0.1:1/relais?connect_timeout=2", postgres.Options{})
	if !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("Open(unreachable) = %v, want ErrUnavailable", err)
	}
	if _, err := postgres.Open(ctx, "postgres://a:b@host:notaport/db", postgres.Options{}); !errors.Is(err, postgres.ErrDSN) {
		t.Errorf("Open(malformed) = %v, want ErrDSN", err)
	}
}

func TestTokenStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunTokenStore(t, func(t *testing.T) storagetest.TokenStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}

func TestKeyStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunKeyStore(t, func(t *testing.T) storagetest.KeyStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}

func TestLoginStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunLoginStore(t, func(t *testing.T) storagetest.LoginStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}

func TestTOTPStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunTOTPStore(t, func(t *testing.T) storagetest.TOTPStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}

func TestRepresentationStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunRepresentationStore(t, func(t *testing.T) storagetest.RepresentationStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}
