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
	oauth.SubjectStore
	keyring.JournalKeyStore
	journal.Store
	notices.Store
	prefs.Store
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

// openStore opens the store --db names; a store that cannot be opened is a
// setting to fix (exit 2), said in one sentence.
func openStore(ctx context.Context, c *Config) (store, string, error) {
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
