package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func databaseOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DSN %q is not a URL: %v", dsn, err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func TestNewDatabaseIsUsableAndEmpty(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	if !strings.HasPrefix(dsn, "postgres://") {
		t.Errorf("DSN %q does not start with postgres://", dsn)
	}
	name := databaseOf(t, dsn)
	if len(name) > 63 || name != strings.ToLower(name) || !strings.Contains(name, "testnewdatabaseisusableandempty") {
		t.Errorf("database name %q: want lower case, at most 63 bytes, containing the test name", name)
	}

	conn := connect(t, dsn)
	if n := queryInt(t, conn, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"); n != 0 {
		t.Errorf("fresh database has %d user relations, want 0", n)
	}
	var enc, collate string
	if err := conn.QueryRow(context.Background(), "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()").Scan(&enc, &collate); err != nil {
		t.Fatal(err)
	}
	if enc != "UTF8" || collate != "C" {
		t.Errorf("encoding %s, collation %s; want UTF8, C", enc, collate)
	}

	exec(t, conn, "CREATE TABLE item (id int PRIMARY KEY, label text NOT NULL)")
	exec(t, conn, "INSERT INTO item VALUES (1, 'un'), (2, 'deux')")
	var label string
	if err := conn.QueryRow(context.Background(), "SELECT label FROM item WHERE id = $1", 2).Scan(&label); err != nil {
		t.Fatal(err)
	}
	if label != "deux" {
		t.Errorf("label = %q, want deux", label)
	}
}

func TestNewDatabaseIsolation(t *testing.T) {
	t.Parallel()
	dsnA, dsnB := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	if databaseOf(t, dsnA) == databaseOf(t, dsnB) {
		t.Fatalf("two NewDatabase calls gave the same database %s", databaseOf(t, dsnA))
	}
	a, b := connect(t, dsnA), connect(t, dsnB)
	exec(t, a, "CREATE TABLE only_in_a (x int)")
	exec(t, a, "INSERT INTO only_in_a VALUES (1)")
	if n := queryInt(t, b, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"); n != 0 {
		t.Errorf("table created in A is visible in B")
	}
	exec(t, b, "CREATE TABLE only_in_a (x int)") // no clash either
	if n := queryInt(t, b, "SELECT count(*) FROM only_in_a"); n != 0 {
		t.Errorf("B's table has %d rows, want 0", n)
	}
}

func TestDatabaseDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("sub", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		name = databaseOf(t, dsn)
		connect(t, dsn) // left open on purpose: the drop must force it closed
	})
	if name == "" {
		t.Skip("no database (subtest skipped or failed)")
	}
	// Look from another database of the same server.
	other := connect(t, pgtest.NewDatabase(t))
	if n := queryInt(t, other, "SELECT count(*) FROM pg_database WHERE datname = $1", name); n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

var setupCalls atomic.Int32

func migrate(dsn string) error {
	setupCalls.Add(1)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	// Left open on purpose: Template must close it before cloning.
	_, err = conn.Exec(ctx, "CREATE TABLE mandate (id int PRIMARY KEY, holder text); INSERT INTO mandate VALUES (1, 'Alice')")
	return err
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	// Concurrent first calls build the template once.
	names := make([]string, 4)
	t.Run("build", func(t *testing.T) {
		for i := range names {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				names[i] = pgtest.Template(t, "relais_tmpl", migrate)
			})
		}
	})
	if names[0] == "" {
		t.Fatal("no template (build subtests skipped or failed)")
	}
	for _, n := range names[1:] {
		if n != names[0] {
			t.Fatalf("Template returned different names: %v", names)
		}
	}
	tmpl := names[0]
	if got := setupCalls.Load(); got != 1 {
		t.Errorf("setup ran %d times, want 1", got)
	}

	for _, holder := range []string{"Bob", "Carol", "Dan"} {
		t.Run(holder, func(t *testing.T) {
			t.Parallel()
			conn := connect(t, pgtest.NewDatabaseFrom(t, tmpl))
			var got string
			if err := conn.QueryRow(context.Background(), "SELECT holder FROM mandate WHERE id = 1").Scan(&got); err != nil {
				t.Fatalf("clone lacks the template's data: %v", err)
			}
			if got != "Alice" {
				t.Errorf("holder = %q, want Alice", got)
			}
			// Changes stay in this clone.
			exec(t, conn, "UPDATE mandate SET holder = $1 WHERE id = 1", holder)
			exec(t, conn, "INSERT INTO mandate VALUES (2, $1)", holder)
			if n := queryInt(t, conn, "SELECT count(*) FROM mandate"); n != 2 {
				t.Errorf("clone has %d rows, want 2", n)
			}
		})
	}

	if again := pgtest.Template(t, "relais_tmpl", func(string) error { return errors.New("must not run") }); again != tmpl {
		t.Errorf("second Template call gave %s, want %s", again, tmpl)
	}
}

func TestClusterStopStart(t *testing.T) {
	t.Parallel()
	c := pgtest.StartCluster(t)
	dsn := c.DSN("postgres")
	ctx := context.Background()

	conn := connect(t, dsn)
	exec(t, conn, "CREATE TABLE survivor (x int); INSERT INTO survivor VALUES (42)")

	c.Stop(t)
	if err := conn.Ping(ctx); err == nil {
		t.Error("connection opened before Stop still works")
	}
	shortCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(shortCtx, dsn); err == nil {
		conn.Close(ctx)
		t.Fatal("connecting to a stopped cluster succeeded")
	}
	c.Stop(t) // no-op

	c.Start(t)
	if got := c.DSN("postgres"); got != dsn {
		t.Errorf("DSN changed across restart: %s, then %s", dsn, got)
	}
	conn = connect(t, dsn)
	if n := queryInt(t, conn, "SELECT x FROM survivor"); n != 42 {
		t.Errorf("data after restart = %d, want 42", n)
	}
}
