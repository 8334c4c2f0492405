package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/puddle/v2"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

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
	// ConnectTimeout bounds each new connection when the DSN sets none.
	// Default 5 s.
	ConnectTimeout time.Duration
	// Now is the clock for created/updated times. Default time.Now.
	Now func() time.Time
	// FailoverWait bounds how long a transaction waits for a read-write
	// server when the one it used went away, as during a failover.
	// Default 15 s; negative: do not wait.
	FailoverWait time.Duration
}

// Store is the PostgreSQL store.
type Store struct {
	pool         *pgxpool.Pool
	now          func() time.Time
	failoverWait time.Duration
	commit       func(context.Context, pgx.Tx) error // tx.Commit; tests pretend a lost server
}

// ErrDSN: the connection string cannot be parsed.
var ErrDSN = errors.New("postgres: malformed connection string")

// ParseDSN checks a connection string without connecting.
func ParseDSN(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the password; say only that it failed.
		return nil, fmt.Errorf("%w", ErrDSN)
	}
	return cfg, nil
}

// Open connects a pool and checks the server answers.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = 5 * time.Second
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
	}
	// pgxpool's default (4 connections on a 2-core machine) queues a busy
	// token endpoint behind a handful of commits; 16 lets commits group
	// while staying far below PostgreSQL's max_connections. A DSN's
	// pool_max_conns still wins.
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", mapErr(err, ""))
	}
	if opt.FailoverWait == 0 {
		opt.FailoverWait = defaultFailoverWait
	}
	s := &Store{pool: pool, now: opt.Now, failoverWait: opt.FailoverWait, commit: func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) }}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Addr says which server the store talks to, without credentials.
func Addr(dsn string) string {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return "?"
	}
	addr := net.JoinHostPort(cfg.ConnConfig.Host, fmt.Sprint(cfg.ConnConfig.Port))
	if cfg.ConnConfig.Database != "" {
		addr += "/" + cfg.ConnConfig.Database
	}
	return addr
}

// Cause says in a few plain words why a connection failed, for the one
// sentence an operator reads at start.
func Cause(err error) string {
	var dns *net.DNSError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &dns):
		return "the host name " + dns.Name + " is unknown"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing accepts connections at that address"
	case errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000"):
		return "the server refused the user or password"
	case errors.As(err, &pe) && pe.Code == "3D000":
		return "the database does not exist"
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return "the server did not answer in time"
	}
	return "the server did not accept the connection"
}

// Close closes the pool, waiting for connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err, ""))
	}
	return nil
}

// Migrations returns the goose provider for this store's embedded schema.
// It locks with a table, not an advisory lock, which distributed engines
// lack. Close the provider to release its database handle.
func (s *Store) Migrations() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	locker, err := lock.NewPostgresTableLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(s.pool), fsys, goose.WithLocker(locker), goose.WithGoMigrations(pivotBackfill))
}

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txKey struct{ s *Store }

func (s *Store) txFrom(ctx context.Context) pgx.Tx {
	tx, _ := ctx.Value(txKey{s}).(pgx.Tx)
	return tx
}

// q is the transaction in ctx, or the pool, through waiting.
func (s *Store) q(ctx context.Context) querier {
	if tx := s.txFrom(ctx); tx != nil {
		return tx
	}
	return waiting{s}
}

// waiting is the pool for statements outside a transaction: when the
// server went away (a failover), a statement that can safely run again
// waits for a read-write server, up to FailoverWait, as InTx does. Safe
// are a SELECT, and any statement the server never received (no
// connection, or pgconn says nothing was sent). Any other write whose
// answer was lost may have happened, so its error is returned.
type waiting struct{ s *Store }

func (w waiting) Exec(ctx context.Context, sql string, args ...any) (tag pgconn.CommandTag, err error) {
	err = w.s.await(ctx, isRead(sql), func() error {
		tag, err = w.s.pool.Exec(ctx, sql, args...)
		return err
	})
	return tag, err
}

func (w waiting) Query(ctx context.Context, sql string, args ...any) (rows pgx.Rows, err error) {
	err = w.s.await(ctx, isRead(sql), func() error {
		rows, err = w.s.pool.Query(ctx, sql, args...)
		return err
	})
	return rows, err
}

func (w waiting) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return waitingRow{w: w, ctx: ctx, sql: sql, args: args}
}

type waitingRow struct {
	w    waiting
	ctx  context.Context
	sql  string
	args []any
}

func (r waitingRow) Scan(dest ...any) error {
	return r.w.s.await(r.ctx, isRead(r.sql), func() error {
		return r.w.s.pool.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...)
	})
}

// await runs do, and again while the server is away and running it again
// is safe (read, or nothing sent), up to FailoverWait. It returns do's
// own error, for the caller to map.
func (s *Store) await(ctx context.Context, read bool, do func() error) error {
	var since time.Time
	for {
		err := do()
		if err == nil || !errors.Is(mapErr(err, ""), mandates.ErrUnavailable) || !(read || notSent(err)) ||
			errors.Is(err, puddle.ErrClosedPool) {
			return err
		}
		if since.IsZero() {
			since = time.Now()
		}
		if s.failoverWait <= 0 || time.Since(since) >= s.failoverWait || !pause(ctx, failoverBackoff(time.Since(since))) {
			return err
		}
	}
}

// readOnly: the server refused a write as a standby does (25006), which a
// primary demoted under a connection says.
func readOnly(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "25006"
}

// notSent: the statement never reached a server.
func notSent(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.SafeToRetry(err)
}

// isRead: the statement is a SELECT, which changes nothing.
func isRead(sql string) bool {
	sql = strings.TrimSpace(sql)
	return len(sql) >= 6 && strings.EqualFold(sql[:6], "SELECT")
}

// maxAttempts bounds retries of a transaction the server says did not
// happen (serialization failure, deadlock), which distributed engines
// report under contention.
const maxAttempts = 5

// defaultFailoverWait bounds how long a transaction waits for a
// read-write server when the one it used went away: a failover under
// Patroni takes seconds, and a request served late beats one refused.
const defaultFailoverWait = 15 * time.Second

// InTx implements mandates.Transactor. A nested InTx joins the outer
// transaction. fn may run more than once when the server asks for a retry,
// or lost the connection before COMMIT, so it must only act on the store
// through its ctx; under mandates.WithoutRetry it runs at most once.
//
// Every transaction carries a write key, chosen here before its first
// attempt and inserted first (write_keys, migration 00036). A COMMIT that
// reports a lost connection may still have committed; the next attempt's
// insert of the same key then finds it (committed: done, not applied
// twice) or takes it (not committed, and now never will be, since the
// first attempt's insert of the key can no longer succeed).
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	rerun := mandates.RetryAllowed(ctx)
	key := mandates.NewID(time.Now())
	var lostSince time.Time
	var unknown error // a COMMIT that may have gone through, when fn may not run again
	conflicts := 0
	for {
		var keyWait time.Duration
		if !lostSince.IsZero() {
			// An earlier attempt may still hold the key on a server that
			// has not yet seen its connection go: wait for it no longer
			// than the failover may last.
			keyWait = max(s.failoverWait-time.Since(lostSince), time.Millisecond)
		}
		var err error
		if unknown != nil {
			var written bool
			if written, err = s.askWritten(ctx, key, keyWait); err == nil {
				if written {
					return nil
				}
				return unknown
			}
		} else {
			err = s.inTxOnce(ctx, key, keyWait, fn)
		}
		var lost *lostError
		switch {
		case err == nil, errors.Is(err, errAlreadyWritten):
			return nil
		case retryable(err) && rerun:
			conflicts++
			if conflicts >= maxAttempts {
				return err
			}
			if !pause(ctx, time.Duration(conflicts*conflicts)*5*time.Millisecond) {
				return err
			}
			continue
		case !errors.As(err, &lost):
			return err
		}
		// The server went away. Before COMMIT nothing was written; fn may
		// run again only when the caller allows it, but an attempt that
		// never reached fn can always be made again.
		switch {
		case lost.stage == stageWork && !rerun:
			return err
		case lost.stage == stageCommit && !rerun:
			unknown = err
		}
		if lostSince.IsZero() {
			lostSince = time.Now()
		}
		if s.failoverWait <= 0 || time.Since(lostSince) >= s.failoverWait || !pause(ctx, failoverBackoff(time.Since(lostSince))) {
			return err
		}
	}
}

// askWritten finds out whether a COMMIT whose answer was lost went
// through, without running anything again: it takes the transaction's key
// and keeps it, so that the attempt that COMMIT ended can never commit.
// Taking the key is the answer (no), whatever becomes of this COMMIT; the
// key already there is yes. An error (the server lost before the key was
// taken) asks to ask again.
func (s *Store) askWritten(ctx context.Context, key string, keyWait time.Duration) (written bool, err error) {
	err = s.inTxOnce(ctx, key, keyWait, func(context.Context) error { return nil })
	var lost *lostError
	switch {
	case errors.Is(err, errAlreadyWritten):
		return true, nil
	case errors.As(err, &lost) && lost.stage == stageBegin:
		return false, err
	}
	return false, nil
}

// failoverBackoff grows from 50 ms to 500 ms while the server is away, so
// a new primary is found within half a second of its promotion.
func failoverBackoff(waited time.Duration) time.Duration {
	return min(50*time.Millisecond+waited/4, 500*time.Millisecond)
}

// pause waits d, or less when ctx ends; it says whether to go on.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// errAlreadyWritten: the transaction's write key is in the store, so an
// earlier attempt of it committed.
var errAlreadyWritten = errors.New("postgres: the transaction was already written")

// stage says how far an attempt got before the server went away.
type stage int

const (
	stageBegin  stage = iota // before fn ran: nothing happened
	stageWork                // during fn: rolled back by the server
	stageCommit              // during COMMIT: committed or not, unknown
)

// lostError: the attempt lost its server at stage. It is ErrUnavailable.
type lostError struct {
	stage stage
	err   error
}

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

func lostAt(st stage, err error) error {
	// A closed store never comes back.
	if errors.Is(err, mandates.ErrUnavailable) && !errors.Is(err, puddle.ErrClosedPool) {
		return &lostError{stage: st, err: err}
	}
	return err
}

// inTxOnce is one attempt of a transaction. keyWait, when not zero, bounds
// how long taking the key may wait for an earlier attempt that holds it.
func (s *Store) inTxOnce(ctx context.Context, key string, keyWait time.Duration, fn func(ctx context.Context) error) (err error) {
	// One round trip: the key is a UUID made by mandates.NewID and the
	// wait a number, so both can be written into the statement.
	begin := "BEGIN; INSERT INTO write_keys (key) VALUES ('" + key + "')"
	if keyWait > 0 {
		begin = fmt.Sprintf("BEGIN; SET LOCAL lock_timeout = %d; INSERT INTO write_keys (key) VALUES ('%s'); SET LOCAL lock_timeout TO DEFAULT",
			keyWait.Milliseconds()+1, key)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: begin})
	if err != nil {
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "write_keys_pkey":
			return errAlreadyWritten
		case errors.As(err, &pe) && pe.Code == "55P03":
			// lock_not_available: the earlier attempt still holds the key.
			return &lostError{stage: stageBegin, err: fmt.Errorf("begin: %w: an earlier attempt holds the key: %w", mandates.ErrUnavailable, err)}
		}
		return lostAt(stageBegin, fmt.Errorf("begin: %w", mapErr(err, "")))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{s}, tx)); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		if !tx.Conn().IsClosed() && !readOnly(err) {
			// The server is still there (an ErrUnavailable from
			// elsewhere, such as a busy password hasher): no failover.
			return err
		}
		return lostAt(stageWork, err)
	}
	if err := s.commit(ctx, tx); err != nil {
		return lostAt(stageCommit, fmt.Errorf("commit: %w", mapErr(err, "")))
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

type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() []error {
	return []error{mandates.ErrConflict, e.err}
}

func retryable(err error) bool {
	var r *retryError
	return errors.As(err, &r)
}

// constraintFields names the field behind each unique constraint.
var constraintFields = map[string]string{
	"persons_pkey":             "id",
	"persons_email_key":        "email",
	"clients_pkey":             "id",
	"browser_sessions_pkey":    "id",
	"representations_pkey":     "id",
	"representations_decision": "decision",
	"organisations_pkey":       "id",
	"notices_pkey":             "id",
	"notices_fallback":         "fallback_of",
}

// mapErr turns pgx's errors into the domain's. entity names what was
// written, for unique violations.
func mapErr(err error, entity string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return mandates.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return &mandates.UniqueError{Entity: entity, Field: constraintFields[pe.ConstraintName]}
		case pe.Code == "23503":
			return fmt.Errorf("%w: refers to a record that does not exist", mandates.ErrInvalid)
		case pe.Code == "22021" || pe.Code == "22P05":
			// Text that is not UTF-8 or holds NUL: no stored record can
			// have such a key, and nothing valid can be written with it.
			return fmt.Errorf("%w: %w: text is not valid UTF-8", mandates.ErrNotFound, mandates.ErrInvalid)
		case pe.Code == "22P02" || pe.Code == "22007" || pe.Code == "22008":
			return fmt.Errorf("%w: %s", mandates.ErrInvalid, pe.Message)
		case pe.Code == "40001" || pe.Code == "40P01":
			return &retryError{err}
		case strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300" ||
			pe.Code == "25006": // read-only: this server is a standby now
			return fmt.Errorf("%w: %w", mandates.ErrUnavailable, err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || errors.Is(err, puddle.ErrClosedPool) {
		return fmt.Errorf("%w: %w", mandates.ErrUnavailable, err)
	}
	return err
}

func list(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}
