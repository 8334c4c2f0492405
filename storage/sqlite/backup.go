package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotRelais: the file is a SQLite database, but not a Relais store (no
// migration table, or no journal).
var ErrNotRelais = errors.New("sqlite: not a Relais database")

// ErrInUse: another connection, in this process or another (a relais
// serve), has the database open.
var ErrInUse = errors.New("sqlite: the database is in use")

// IntegrityError is a copy that fails PRAGMA integrity_check: Problems
// holds SQLite's first lines.
type IntegrityError struct{ Problems []string }

func (e *IntegrityError) Error() string {
	return "sqlite: the database is damaged: " + strings.Join(e.Problems, "; ")
}

// SchemaError is a database migrated further than this binary knows:
// opening it would run queries on a schema they were not written for.
type SchemaError struct{ Version, Known int64 }

func (e *SchemaError) Error() string {
	return fmt.Sprintf("sqlite: schema version %d is newer than this binary's %d", e.Version, e.Known)
}

// Summary describes a checked copy.
type Summary struct {
	Version    int64 // the schema's migration version
	Chains     int64 // journal chains
	Entries    int64 // journal entries
	Checkpoint int64 // the latest signed checkpoint's number, 0 if none
}

// Backup writes a consistent copy of the database to dst, which must not
// exist or be empty, with VACUUM INTO. It runs on a read connection: in WAL
// mode it sees one snapshot and takes no write lock, so writers go on while
// it copies (only the WAL cannot be checkpointed past its snapshot until it
// ends).
func (s *Store) Backup(ctx context.Context, dst string) error {
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", mapErr(err, ""))
	}
	defer conn.Close()
	// query_only forbids VACUUM INTO even though it writes only dst; this
	// connection goes back to the pool read-only again.
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return fmt.Errorf("backup: %w", mapErr(err, ""))
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA query_only = 1")
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("backup to %s: %w", dst, mapErr(err, ""))
	}
	return nil
}

// rawDSN is path opened alone, without the store's pools: for checking a
// copy or settling a file no store holds.
func rawDSN(path string, pragmas ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	return path + "?" + q.Encode()
}

// Check proves that the file at path is a sound Relais store this binary
// can open: SQLite's integrity check passes, and the schema is a Relais
// migration version not newer than this binary's. It reads only, but
// SQLite may leave -wal and -shm files beside a WAL database: check a copy.
// Failures: ErrNotDatabase, *IntegrityError, ErrNotRelais, *SchemaError.
func Check(ctx context.Context, path string) (Summary, error) {
	var sum Summary
	if _, err := os.Stat(path); err != nil {
		return sum, fmt.Errorf("check %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", rawDSN(path, "busy_timeout(5000)"))
	if err != nil {
		return sum, fmt.Errorf("check %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err != nil {
		return sum, checkErr(path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return sum, checkErr(path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return sum, checkErr(path, err)
	}
	if len(problems) > 0 {
		return sum, &IntegrityError{Problems: problems}
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema
		WHERE type = 'table' AND name IN ('goose_db_version', 'journal_entries', 'journal_checkpoints')`).Scan(&tables); err != nil {
		return sum, checkErr(path, err)
	}
	if tables != 3 {
		return sum, ErrNotRelais
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&sum.Version); err != nil {
		return sum, checkErr(path, err)
	}
	known, err := knownVersion()
	if err != nil {
		return sum, err
	}
	if sum.Version > known {
		return sum, &SchemaError{Version: sum.Version, Known: known}
	}
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT chain), count(*) FROM journal_entries`).Scan(&sum.Chains, &sum.Entries); err != nil {
		return sum, checkErr(path, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(number), 0) FROM journal_checkpoints`).Scan(&sum.Checkpoint); err != nil {
		return sum, checkErr(path, err)
	}
	return sum, nil
}

// checkErr maps what SQLite says of a file it cannot read as a database:
// not one at all, or a damaged one.
func checkErr(path string, err error) error {
	mapped := mapErr(err, "")
	if errors.Is(mapped, ErrNotDatabase) {
		return ErrNotDatabase
	}
	if hasCode(err, sqlite3.SQLITE_CORRUPT) {
		return &IntegrityError{Problems: []string{"SQLite reports it corrupt"}}
	}
	return fmt.Errorf("check %s: %w", path, mapped)
}

// knownVersion is the newest migration embedded in this binary.
func knownVersion() (int64, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return 0, err
	}
	var max int64
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%05d_", &v); err == nil && v > max {
			max = v
		}
	}
	return max, nil
}

// Settled is a database Settle holds: until Release, no other connection
// can open it, in this process or another.
type Settled struct {
	db   *sql.DB
	conn *sql.Conn
}

// Settle proves that no other connection has the database at path open,
// folds its write-ahead log into the file and removes the -wal and -shm
// files, so that the file alone is the whole database and may be moved or
// replaced; it keeps the file locked until Release, so that no one opens
// it in between (relais restore keeps it and puts another in its place).
// In exclusive locking mode SQLite opens a WAL database only once it holds
// the exclusive lock on the file, which fails while any other connection
// (each keeps a shared lock in WAL mode) has it open: that is ErrInUse, at
// once, without waiting; and it keeps that lock while it stays open.
// Exclusive mode keeps the WAL index in memory, so the -shm is unused.
func Settle(ctx context.Context, path string) (*Settled, error) {
	db, err := sql.Open("sqlite", rawDSN(path, "busy_timeout(0)", "locking_mode(EXCLUSIVE)"))
	if err != nil {
		return nil, fmt.Errorf("settle %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, settleErr(path, err)
	}
	held := &Settled{db: db, conn: conn}
	var busy, logged, moved int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil {
		held.Release()
		return nil, settleErr(path, err)
	}
	if busy != 0 {
		held.Release()
		return nil, ErrInUse
	}
	// Closing a WAL connection deletes the -wal by its name, which by
	// Release may be another store's (the one put in this one's place).
	// With the log persistent, the connection keeps its own, emptied
	// above, and removed here by name while the name is still this file's.
	if err := conn.Raw(func(dc any) error {
		fc, ok := dc.(sqlite.FileControl)
		if !ok {
			return fmt.Errorf("the driver's connection %T has no file control", dc)
		}
		_, err := fc.FileControlPersistWAL("main", 1)
		return err
	}); err != nil {
		held.Release()
		return nil, fmt.Errorf("settle %s: keep the write-ahead log on close: %w", path, err)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			held.Release()
			return nil, fmt.Errorf("settle %s: %w", path, err)
		}
	}
	return held, nil
}

// Release closes the connection Settle holds, and with it the lock; it
// removes no file.
func (s *Settled) Release() error {
	err := s.conn.Close()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("release the settled database: %w", mapErr(err, ""))
	}
	return nil
}

func settleErr(path string, err error) error {
	if hasCode(err, sqlite3.SQLITE_BUSY) || hasCode(err, sqlite3.SQLITE_LOCKED) {
		return ErrInUse
	}
	return fmt.Errorf("settle %s: %w", path, mapErr(err, ""))
}

// hasCode tells, by SQLite's primary result code (the low byte of an
// extended one), what the driver's error is.
func hasCode(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == code
}
