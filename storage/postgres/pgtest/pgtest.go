// Package pgtest gives tests PostgreSQL databases with no manual set-up.
//
// Each test gets its own fresh database, dropped when the test ends:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestStore(t *testing.T) {
//		dsn := pgtest.NewDatabase(t) // postgres://...
//		...
//	}
//
// The databases live on the server named by RELAIS_TEST_POSTGRES when set
// (a DSN of a role allowed to CREATE DATABASE), otherwise on a throwaway
// cluster that pgtest starts once per test binary with the PostgreSQL
// server binaries (initdb, postgres) of the machine, in a temporary
// directory, listening on a free port of 127.0.0.1 only, with durability
// turned off for speed. Main stops it and removes its directory once the
// tests are done. When running as root, which PostgreSQL refuses, the
// binaries run as the "postgres" system user.
//
// With neither a server nor binaries, tests calling pgtest are skipped,
// unless the CI environment variable is set: then they fail.
//
// For databases with a schema, build a template once per test binary and
// clone it for each test, which is much faster than migrating each time:
//
//	tmpl := pgtest.Template(t, "relais", migrate) // migrate(dsn string) error
//	dsn := pgtest.NewDatabaseFrom(t, tmpl)
//
// Tests that need to stop and restart the server (an outage) own a
// separate cluster: see StartCluster.
//
// If the test binary dies without returning from Main (panic, test
// timeout, kill), the throwaway server still stops on Linux: the kernel
// sends it SIGQUIT when the test binary goes away. Its directory is left
// behind and removed by the next run of any pgtest-using test binary
// (directories older than a minute whose owner is gone). On a
// RELAIS_TEST_POSTGRES server, databases and templates of such a run stay
// behind; their names start with "pgtest_".
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnvDSN names the environment variable that, when set, holds the DSN of
// the PostgreSQL server to create test databases on, instead of starting a
// throwaway cluster. Its role must be allowed to CREATE DATABASE. URL
// (postgres://...) and keyword/value DSNs are accepted; the DSNs pgtest
// returns then have the same form.
const EnvDSN = "RELAIS_TEST_POSTGRES"

// EnvCI names the environment variable that, when not empty, makes a
// missing PostgreSQL fail the tests instead of skipping them.
const EnvCI = "CI"

const (
	namePrefix   = "pgtest_"
	maxNameLen   = 63 // NAMEDATALEN - 1
	adminTimeout = time.Minute
)

var (
	mainRunning atomic.Bool

	shared struct {
		once sync.Once
		srv  *server
		err  error
	}

	templatesMu sync.Mutex
	templates   = map[string]*templateEntry{}
)

// server is where NewDatabase creates databases.
type server struct {
	adminDSN string   // DSN to connect to for CREATE/DROP DATABASE
	cluster  *Cluster // the throwaway cluster, nil when using EnvDSN

	mu        sync.Mutex
	templates []string // databases to drop in Main (on an EnvDSN server)
}

type templateEntry struct {
	once sync.Once
	name string
	err  error
}

// Main runs the package's tests, then drops the templates and stops the
// shared throwaway cluster if one was started, and exits with the tests'
// status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// NewDatabase, NewDatabaseFrom and Template fail tests of packages that do
// not, since nothing would stop the cluster otherwise.
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func shutdown() error {
	srv := shared.srv // Main runs after all tests: no concurrent access left
	if srv == nil {
		return nil
	}
	if srv.cluster != nil {
		if err := srv.cluster.destroy(); err != nil {
			return fmt.Errorf("stopping the throwaway cluster: %w", err)
		}
		return nil
	}
	var errs []error
	for _, name := range srv.templates {
		if err := srv.drop(name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NewDatabase creates a fresh, empty database (UTF8, locale C) for the
// test and returns a DSN to it; the database is dropped when the test ends
// (WITH (FORCE): connections still open are closed). The DSN's role owns
// the database. See the package documentation for the server used.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return sharedServer(t).newDatabase(t, "")
}

// NewDatabaseFrom is NewDatabase for a copy of the template database (see
// Template; any database nobody is connected to works).
func NewDatabaseFrom(t testing.TB, template string) string {
	t.Helper()
	if template == "" {
		t.Fatal("pgtest: NewDatabaseFrom: empty template name")
	}
	return sharedServer(t).newDatabase(t, template)
}

// Template returns the name of a template database for NewDatabaseFrom,
// created the first time it is asked for under this name in the test
// binary: pgtest creates an empty database, calls setup with a DSN to it
// (to run migrations, load fixtures...), then closes the connections left
// to it and forbids new ones, so that it can be cloned. Later and
// concurrent calls with the same name wait for that and return the same
// template, ignoring their setup. If setup fails, all of them fail.
//
// The actual database name is name (sanitized) with a random suffix, so
// test binaries sharing a server do not clash. Main drops it.
func Template(t testing.TB, name string, setup func(dsn string) error) string {
	t.Helper()
	srv := sharedServer(t)
	templatesMu.Lock()
	tmpl := templates[name]
	if tmpl == nil {
		tmpl = &templateEntry{}
		templates[name] = tmpl
	}
	templatesMu.Unlock()

	tmpl.once.Do(func() {
		// Stays if setup panics, so that later callers fail too.
		tmpl.err = fmt.Errorf("the setup of template %q did not complete", name)
		tmpl.name, tmpl.err = srv.buildTemplate(name, setup)
	})
	if tmpl.err != nil {
		t.Fatalf("pgtest: template %q: %v", name, tmpl.err)
	}
	return tmpl.name
}

// StartCluster starts a throwaway cluster owned by the test, for tests that
// stop and restart the server; it is destroyed when the test ends. Where
// no cluster can be started (no PostgreSQL binaries), the test is skipped,
// or fails if CI is set. RELAIS_TEST_POSTGRES plays no part here.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout+readyTimeout)
	defer cancel()
	c, err := newCluster(ctx)
	if err != nil {
		failOrSkip(t, err)
	}
	t.Cleanup(func() {
		if err := c.destroy(); err != nil {
			t.Errorf("pgtest: destroying the cluster: %v", err)
		}
	})
	return c
}

func sharedServer(t testing.TB) *server {
	t.Helper()
	if !mainRunning.Load() {
		t.Fatal("pgtest: this package's tests must run through pgtest.Main: add\n\tfunc TestMain(m *testing.M) { pgtest.Main(m) }")
	}
	shared.once.Do(func() {
		shared.srv, shared.err = openShared()
	})
	if shared.err != nil {
		failOrSkip(t, shared.err)
	}
	return shared.srv
}

func openShared() (*server, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		if _, err := pgx.ParseConfig(dsn); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvDSN, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ping(ctx, dsn); err != nil {
			return nil, fmt.Errorf("%s: cannot connect: %w", EnvDSN, err)
		}
		return &server{adminDSN: dsn}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout+readyTimeout)
	defer cancel()
	c, err := newCluster(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting a throwaway PostgreSQL cluster: %w", err)
	}
	return &server{adminDSN: c.DSN("postgres"), cluster: c}, nil
}

// failOrSkip ends the test for err: skipped when PostgreSQL is merely
// unavailable outside CI, failed otherwise.
func failOrSkip(t testing.TB, err error) {
	t.Helper()
	var u *unavailableError
	if !errors.As(err, &u) {
		t.Fatalf("pgtest: %v", err)
	}
	if os.Getenv(EnvCI) != "" {
		t.Fatalf("pgtest: no PostgreSQL for tests (a failure since %s is set): %v", EnvCI, err)
	}
	t.Skipf("pgtest: skipped, no PostgreSQL for tests: %v. Install the PostgreSQL server (e.g. apt install postgresql-15), or set %s to the DSN of a role allowed to CREATE DATABASE.", err, EnvDSN)
}

// dsn returns the admin DSN pointing at database instead.
func (s *server) dsn(database string) string {
	if s.cluster != nil {
		return s.cluster.DSN(database)
	}
	return withDatabase(s.adminDSN, database)
}

func withDatabase(dsn, database string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			u.Path = "/" + database
			u.RawPath = ""
			return u.String()
		}
	}
	// keyword/value: a later keyword wins.
	return dsn + " dbname='" + database + "'"
}

func (s *server) newDatabase(t testing.TB, template string) string {
	t.Helper()
	name, err := s.create(t.Name(), template)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.drop(name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s.dsn(name)
}

// create creates a database named after hint and returns its name: a copy
// of template, or an empty UTF8 database with locale C if template is "".
func (s *server) create(hint, template string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.adminDSN)
	if err != nil {
		return "", fmt.Errorf("connecting to create a database: %w", err)
	}
	defer conn.Close(context.Background())

	from := "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
	if template != "" {
		from = "TEMPLATE " + quote(template)
	}
	for attempt := 1; ; attempt++ {
		name := databaseName(hint)
		_, err := conn.Exec(ctx, "CREATE DATABASE "+quote(name)+" "+from)
		if err == nil {
			return name, nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" && attempt < 3 { // duplicate_database
			continue
		}
		if template != "" {
			return "", fmt.Errorf("creating database %s from template %s: %w", name, template, err)
		}
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
}

func (s *server) drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.adminDSN)
	if err != nil {
		return fmt.Errorf("connecting to drop database %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quote(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", name, err)
	}
	return nil
}

func (s *server) buildTemplate(name string, setup func(dsn string) error) (string, error) {
	db, err := s.create("tmpl_"+name, "")
	if err != nil {
		return "", err
	}
	if s.cluster == nil { // a throwaway cluster goes away as a whole
		s.mu.Lock()
		s.templates = append(s.templates, db)
		s.mu.Unlock()
	}
	if err := setup(s.dsn(db)); err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}

	// CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
	// template: forbid connections, then end those setup left open.
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.adminDSN)
	if err != nil {
		return "", fmt.Errorf("connecting to seal the template: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+quote(db)+" ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("sealing the template: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db); err != nil {
		return "", fmt.Errorf("closing the connections to the template: %w", err)
	}
	return db, nil
}

// databaseName makes a database name from a test name: "pgtest_", the
// name in lower case with runs of other characters than [a-z0-9] turned
// into "_", cut to fit, and a random suffix.
func databaseName(hint string) string {
	suffix := fmt.Sprintf("_%08x", rand.Uint32())
	var b strings.Builder
	b.WriteString(namePrefix)
	underscore := true // no leading "_" after the prefix
	for _, r := range strings.ToLower(hint) {
		if b.Len() >= maxNameLen-len(suffix) {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	name := strings.TrimRight(b.String(), "_")
	return name + suffix
}

func quote(ident string) string { return pgx.Identifier{ident}.Sanitize() }
