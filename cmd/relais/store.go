package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/pressly/goose/v3"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/sqlite"
)

// store is what the command needs of either store.
type store interface {
	mandates.Store
	oauth.ClientStore
	authn.SessionStore
	keyring.KeyStore
	oauth.TokenStore
	oauth.ProofStore
	authn.ConsentStore
	authn.AttemptStore
	authn.TOTPStore
	authn.PendingLoginStore
	authn.AccountCodeStore
	accounts.PersonSessions
	oauth.SubjectStore
	keyring.JournalKeyStore
	journal.Store
	notices.Store
	prefs.Store
	upstreamStore // the logins through FranceConnect and ProConnect (upstream.go)
	cleanupStore  // expired records and the lease of their cleanup (cleanup.go)
	mandates.PivotStore
	mandates.PersonLister
	authn.AccountCodeStore
	authn.LoginNameStore
	Ping(ctx context.Context) error
	Migrations() (*goose.Provider, error)
	Close() error
}

var (
	_ store = (*sqlite.Store)(nil)
	_ store = (*postgres.Store)(nil)
)

// openStore opens the store --db names, its schema set up and up to date:
// a store that cannot be opened, or whose schema is not ready, is a
// setting to fix (exit 2), said in one sentence with the fix, rather than
// the first SQL statement's « no such table ». Only the commands that set
// up the schema themselves (migrate, and serve, journal and notices print,
// which bring a SQLite file up to date) open it with openDB.
func openStore(ctx context.Context, c *Config) (store, string, error) {
	st, kind, err := openDB(ctx, c)
	if err != nil {
		return nil, kind, err
	}
	if err := schemaReady(ctx, st, c.DB); err != nil {
		st.Close()
		return nil, kind, err
	}
	return st, kind, nil
}

// schemaReady says, as a setting to fix, that the database db names is not
// set up yet (no schema: a new SQLite file, an empty PostgreSQL database)
// or has migrations still to apply, and how to fix it.
func schemaReady(ctx context.Context, st store, db string) error {
	p, err := st.Migrations()
	if err != nil {
		return err
	}
	defer p.Close()
	fix := "relais migrate up --db " + db
	if kind, target, _ := storeKind(db); kind == "postgres" {
		db, fix = "(the PostgreSQL database at "+postgres.Addr(target)+")", "relais migrate up and the same --db"
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return settingErr("--db %s (RELAIS_DB): the version of this database's schema cannot be read (%s); check that it is a Relais database, or set it up with %s.", db, shortCause(err), fix)
	}
	if !pending {
		return nil
	}
	// Pending with no version recorded (or no table to record it): nothing
	// was ever migrated there, a new SQLite file or an empty PostgreSQL
	// database.
	if current, _, err := p.GetVersions(ctx); err != nil || current <= 0 {
		return settingErr("--db %s (RELAIS_DB): this database is not set up yet; set it up with %s, then run this command again.", db, fix)
	}
	return settingErr("--db %s (RELAIS_DB): this database is not up to date for this version of relais (migrations are waiting); apply them with %s, then run this command again.", db, fix)
}

// openDB opens the store --db names, whatever its schema; a store that
// cannot be opened is a setting to fix (exit 2), said in one sentence.
func openDB(ctx context.Context, c *Config) (store, string, error) {
	kind, target, err := storeKind(c.DB)
	if err != nil {
		return nil, "", err
	}
	switch kind {
	case "sqlite":
		s, err := sqlite.Open(ctx, target, sqlite.Options{BusyTimeout: c.BusyTimeout})
		if err != nil {
			return nil, kind, sqliteErr(target, err)
		}
		return s, kind, nil
	default:
		s, err := postgres.Open(ctx, target, postgres.Options{})
		if err != nil {
			return nil, kind, settingErr("--db (RELAIS_DB): cannot reach PostgreSQL at %s (%s); check the address and that the server is running.",
				postgres.Addr(target), postgres.Cause(err))
		}
		return s, kind, nil
	}
}

func sqliteErr(path string, err error) error {
	var pe *sqlite.PathError
	switch {
	case errors.Is(err, mandates.ErrUnavailable) && isLocked(err):
		return settingErr("--db sqlite:%s (RELAIS_DB): the database file is locked by another program; stop that program or use another file.", path)
	case errors.Is(err, sqlite.ErrNotDatabase):
		return settingErr("--db sqlite:%s (RELAIS_DB) is not a SQLite database file; choose another file.", path)
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, os.ErrPermission):
		return settingErr("--db sqlite:%s (RELAIS_DB): this file cannot be opened for reading and writing; check its rights or choose another file.", path)
	case errors.As(err, &pe):
		return settingErr("--db sqlite:%s (RELAIS_DB) cannot be used (unusable database path: %s); check the path, or choose another file.", path, pe.Reason)
	}
	return settingErr("--db sqlite:%s (RELAIS_DB) cannot be used (%v); check the path, or choose another file.", path, err)
}

// isLocked tells, by SQLite's result code, that another program holds the
// database file's lock (SQLITE_BUSY or SQLITE_LOCKED, or one of their
// extended codes, whose low byte is the primary code).
func isLocked(err error) bool {
	var se *sqlitedriver.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// shortCause is the innermost error's text, which says what failed without
// the chain of wrapping.
func shortCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// migrateUp applies pending migrations and says which.
func migrateUp(ctx context.Context, s store) ([]*goose.MigrationResult, error) {
	p, err := s.Migrations()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	defer p.Close()
	res, err := p.Up(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate up: %w", err)
	}
	return res, nil
}
