package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

//go:embed migrations/*.sql
var migrations embed.FS

var (
	_ mandates.PersonStore         = (*Store)(nil)
	_ mandates.Transactor          = (*Store)(nil)
	_ mandates.RepresentationStore = (*Store)(nil)
	_ mandates.OrganisationStore   = (*Store)(nil)
	_ mandates.ConsentCodeStore    = (*Store)(nil)
	_ mandates.RoleStore           = (*Store)(nil)
	_ mandates.Store               = (*Store)(nil)
	_ oauth.ClientStore            = (*Store)(nil)
	_ authn.SessionStore           = (*Store)(nil)
)

// Options tune a store; the zero value is the production default.
type Options struct {
	// BusyTimeout is how long a write waits for another process's lock
	// before it fails with mandates.ErrUnavailable. Default 5 s.
	BusyTimeout time.Duration
	// Readers is the size of the read pool. Default 4.
	Readers int
	// Now is the clock for created/updated times. Default time.Now.
	Now func() time.Time
}

// Store is the SQLite store.
type Store struct {
	path string
	wDSN string
	w    *sql.DB   // exactly one connection: the single writer
	r    *sql.DB   // read-only pool
	hot  *hot      // r's prepared statements
	whot *writeHot // w's prepared statements
	now  func() time.Time
}

// ErrPath: the database path cannot be used.
var ErrPath = errors.New("sqlite: unusable database path")

// PathError says why the database path cannot be used, in words a person
// can act on. It matches ErrPath with errors.Is.
type PathError struct {
	Reason string // "folder /srv/relais does not exist"…
}

func (e *PathError) Error() string { return ErrPath.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrPath) true.
func (e *PathError) Unwrap() error { return ErrPath }

// ErrNotDatabase: the file exists but is not a SQLite database.
var ErrNotDatabase = errors.New("sqlite: the file is not a SQLite database")

// Open opens (creating if needed) the database file at path. It does not
// migrate: call Migrations().Up.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, &PathError{Reason: fmt.Sprintf("%q (empty, or contains ? or #)", path)}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, &PathError{Reason: path + " is a folder"}
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return nil, &PathError{Reason: "folder " + filepath.Dir(path) + " does not exist"}
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = 5 * time.Second
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	params := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()))
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return path + "?" + q.Encode()
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", params("_txlock", "immediate"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	s := &Store{path: path, wDSN: params("_txlock", "immediate"), w: w, hot: newHot(), whot: newWriteHot(), now: opt.Now}
	// The writer connects first: it creates the file and switches it to WAL
	// before any reader opens it read-only.
	if err := s.checkFile(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", params("_pragma", "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	s.r = r
	return s, nil
}

// createPrivate creates the database file, readable and writable by this
// user only, before the driver opens it: the file holds password hashes,
// personal data and the journal, and SQLite would create it 0644 (less the
// umask). SQLite gives the -wal and -shm files it creates later the mode of
// the database file, whatever the umask (its unix VFS sets the mode of a
// new file explicitly), so they are 0600 too. The mode is set by Chmod
// after creation because the umask could take bits off even 0600. An
// existing file keeps its mode: the operator chose it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkFile proves the file is a SQLite database this process can use.
func (s *Store) checkFile(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return fmt.Errorf("open %s: %w", s.path, mapErr(err, ""))
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.hot.close(), s.whot.close(), s.r.Close(), s.w.Close())
}

// Ping checks that the file can still be read.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err, ""))
	}
	return nil
}

// Migrations returns the goose provider for this store's embedded schema,
// on a connection of its own: close the provider when done.
func (s *Store) Migrations() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", s.wDSN)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithGoMigrations(pivotBackfill))
	if err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type txKey struct{ s *Store }

func (s *Store) txFrom(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txKey{s}).(*sql.Tx)
	return tx
}

// reader is the transaction in ctx, so a transaction reads its own writes,
// or the read pool.
func (s *Store) reader(ctx context.Context) querier {
	if tx := s.txFrom(ctx); tx != nil {
		return tx
	}
	return s.r
}

// InTx implements mandates.Transactor. Calls inside fn must use the ctx fn
// receives: the single write connection is held by the transaction. A
// nested InTx joins the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	s.prepareWriter(ctx)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", mapErr(err, ""))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{s}, tx)); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err, ""))
	}
	return nil
}

// write runs fn in the transaction in ctx, or in its own.
func (s *Store) write(ctx context.Context, fn func(q querier) error) error {
	if tx := s.txFrom(ctx); tx != nil {
		return fn(tx)
	}
	return s.InTx(ctx, func(ctx context.Context) error { return fn(s.txFrom(ctx)) })
}

// mapErr turns SQLite's errors into the domain's. entity names what was
// written, for unique violations.
func mapErr(err error, entity string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return mandates.ErrNotFound
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch code := se.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return &mandates.UniqueError{Entity: entity, Field: uniqueField(se.Error())}
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: refers to a record that does not exist", mandates.ErrInvalid)
	case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
		// The driver's error stays in the chain: its result code tells a
		// caller the file is locked (cmd/relais names it in plain words).
		return fmt.Errorf("%w: the database file is locked by another program: %w", mandates.ErrUnavailable, err)
	case code&0xff == sqlite3.SQLITE_NOTADB:
		return ErrNotDatabase
	case code&0xff == sqlite3.SQLITE_IOERR, code&0xff == sqlite3.SQLITE_CANTOPEN, code&0xff == sqlite3.SQLITE_FULL,
		code&0xff == sqlite3.SQLITE_READONLY, code&0xff == sqlite3.SQLITE_CORRUPT,
		code&0xff == sqlite3.SQLITE_PERM:
		return fmt.Errorf("%w: %v", mandates.ErrUnavailable, err)
	}
	return err
}

// uniqueField reads the column from "UNIQUE constraint failed: persons.email_key",
// or the first of several: "…: representations.decision_key, representations.representative_key".
func uniqueField(msg string) string {
	i := strings.LastIndex(msg, "failed: ")
	if i < 0 {
		return ""
	}
	col, _, _ := strings.Cut(msg[i+len("failed: "):], " ")
	_, col, _ = strings.Cut(col, ".")
	col = strings.TrimRight(col, "),")
	return strings.TrimSuffix(col, "_key")
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
