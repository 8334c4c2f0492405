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
}

// Store is the PostgreSQL store.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
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
	s := &Store{pool: pool, now: opt.Now}
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

// q is the transaction in ctx, or the pool.
func (s *Store) q(ctx context.Context) querier {
	if tx := s.txFrom(ctx); tx != nil {
		return tx
	}
	return s.pool
}

// maxAttempts bounds retries of a transaction the server says did not
// happen (serialization failure, deadlock), which distributed engines
// report under contention.
const maxAttempts = 5

// InTx implements mandates.Transactor. A nested InTx joins the outer
// transaction. fn may run more than once when the server asks for a retry,
// so it must only act on the store through its ctx.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txFrom(ctx) != nil {
		return fn(ctx)
	}
	attempts := maxAttempts
	if !mandates.RetryAllowed(ctx) {
		attempts = 1
	}
	var err error
	for attempt := 1; attempt <= attempts; attempt++ {
		err = s.inTxOnce(ctx, fn)
		if !retryable(err) || attempt == attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		}
	}
	return err
}

func (s *Store) inTxOnce(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", mapErr(err, ""))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{s}, tx)); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
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
		case strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300":
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
