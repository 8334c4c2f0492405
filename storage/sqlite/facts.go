package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/relais-fr/relais/mandates"
)

var _ mandates.FactsStore = (*Store)(nil)

// Every access evaluation runs these statements. They are prepared once
// per read connection (a *sql.Stmt keeps one prepared statement per
// connection of its pool) instead of parsed at every call, which was most
// of their cost: SQLite has no statement cache of its own.
const (
	factsRepresentationsSQL = `SELECT ` + representationColumns + `,
		o.id, o.name, o.kind, o.areas, o.created_by, o.created_at, o.updated_at, o.version,
		o.address_street, o.address_postal_code, o.address_locality, o.address_country
		FROM representations r LEFT JOIN organisations o ON o.id = r.representative_org_id
		WHERE r.person_id = ? ORDER BY r.created_at DESC, r.id DESC`
	// The actor's memberships, each with whether the actor has a confirmed
	// second factor: without one, no membership lets them act.
	membershipsOfSQL = `SELECT ` + membershipColumns + `,
		EXISTS (SELECT 1 FROM totp_secrets t WHERE t.person_id = organisation_members.person_id AND t.confirmed_at IS NOT NULL)
		FROM organisation_members
		WHERE person_id = ? ORDER BY habilitated_at, organisation_id, person_id`
	subjectPersonsSQL = `SELECT subject, person_id FROM pairwise_subjects WHERE sector = ? AND subject IN (?, ?)`
	clientSQL         = `SELECT ` + clientColumns + ` FROM clients WHERE id = ?`
	tokenSQL          = `SELECT request_id, client_id, subject, active, request, expires_at, created_at
		FROM oauth_tokens WHERE kind = ? AND signature = ?`
)

// hot are the read pool's prepared statements, each prepared on first
// use (the store opens before its migrations run).
type hot struct {
	facts, memberships, subjects, client, token hotStmt
}

// The journal's writes run with every journaled act (every token issued,
// every evaluation): they are prepared once on the single writer
// connection, so each append only binds and steps.
const (
	journalHeadSQL  = `SELECT seq, hash FROM journal_entries WHERE chain = ? ORDER BY seq DESC LIMIT 1`
	journalEntrySQL = `INSERT INTO journal_entries (chain, seq, type, at, actor_id, organisation_id, person_id,
		representation_id, client_id, areas, detail_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (chain, seq) DO NOTHING`
	journalDetailSQL = `INSERT INTO journal_details (chain, seq, salt, detail) VALUES (?, ?, ?, ?)`
	// Every token issued is one insert, also prepared once.
	tokenInsertSQL = `INSERT INTO oauth_tokens (kind, signature, request_id, client_id, subject, active, request, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// writeHot are the writer's prepared statements. They are prepared before
// a transaction takes the writer's only connection (InTx): preparing
// inside one would wait for that connection forever.
type writeHot struct {
	head, entry, detail, tokenInsert hotStmt
	ready                            atomic.Bool
}

func newWriteHot() *writeHot {
	h := &writeHot{}
	h.head.text, h.entry.text, h.detail.text, h.tokenInsert.text = journalHeadSQL, journalEntrySQL, journalDetailSQL, tokenInsertSQL
	return h
}

// all are the writer's statements.
func (h *writeHot) all() []*hotStmt { return []*hotStmt{&h.head, &h.entry, &h.detail, &h.tokenInsert} }

// prepareWriter prepares the writer's statements once. Before the
// migrations made their tables it fails, and statements then run as text
// until a later call succeeds.
func (s *Store) prepareWriter(ctx context.Context) {
	h := s.whot
	if h.ready.Load() {
		return
	}
	for _, p := range h.all() {
		if p.st.Load() != nil {
			continue
		}
		st, err := s.w.PrepareContext(ctx, p.text)
		if err != nil {
			return
		}
		if !p.st.CompareAndSwap(nil, st) {
			st.Close()
		}
	}
	h.ready.Store(true)
}

// inWriteTx is h prepared for tx, or nil when it is not prepared.
func inWriteTx(ctx context.Context, tx *sql.Tx, h *hotStmt) *sql.Stmt {
	if st := h.st.Load(); st != nil {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

// execHot runs h on q: prepared when q is the writer's transaction and h
// is prepared, else as text.
func (s *Store) execHot(ctx context.Context, q querier, h *hotStmt, args ...any) (sql.Result, error) {
	if tx, ok := q.(*sql.Tx); ok {
		if st := inWriteTx(ctx, tx, h); st != nil {
			return st.ExecContext(ctx, args...)
		}
	}
	return q.ExecContext(ctx, h.text, args...)
}

func (h *writeHot) close() error {
	var errs []error
	for _, p := range h.all() {
		if st := p.st.Load(); st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

type hotStmt struct {
	text string
	st   atomic.Pointer[sql.Stmt]
}

func newHot() *hot {
	h := &hot{}
	h.facts.text, h.memberships.text, h.subjects.text, h.client.text, h.token.text =
		factsRepresentationsSQL, membershipsOfSQL, subjectPersonsSQL, clientSQL, tokenSQL
	return h
}

// stmt is h's statement prepared on the read pool.
func (s *Store) stmt(ctx context.Context, h *hotStmt) (*sql.Stmt, error) {
	if st := h.st.Load(); st != nil {
		return st, nil
	}
	st, err := s.r.PrepareContext(ctx, h.text)
	if err != nil {
		return nil, err
	}
	if !h.st.CompareAndSwap(nil, st) {
		st.Close()
		return h.st.Load(), nil
	}
	return st, nil
}

func (h *hot) close() error {
	var errs []error
	for _, p := range []*hotStmt{&h.facts, &h.memberships, &h.subjects, &h.client, &h.token} {
		if st := p.st.Load(); st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// readHot runs fn in one read transaction on one reader connection, so its
// statements see one snapshot and take a connection once; inside a write
// transaction fn runs in that one, which reads its own writes. query runs
// one of hs: prepared on the reader, or its text on the writer (a
// statement of the read pool cannot run on the writer's connection).
func (s *Store) readHot(ctx context.Context, hs []*hotStmt, fn func(query func(h *hotStmt, args ...any) (*sql.Rows, error)) error) error {
	if tx := s.txFrom(ctx); tx != nil {
		return fn(func(h *hotStmt, args ...any) (*sql.Rows, error) {
			return tx.QueryContext(ctx, h.text, args...)
		})
	}
	// Preparing takes a connection of the pool: it must happen before the
	// transaction holds one, or transactions holding every connection would
	// wait forever for another to prepare on.
	for _, h := range hs {
		if _, err := s.stmt(ctx, h); err != nil {
			return fmt.Errorf("prepare: %w", mapErr(err, ""))
		}
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", mapErr(err, ""))
	}
	defer func() { _ = tx.Rollback() }() // a read transaction has nothing to undo
	return fn(func(h *hotStmt, args ...any) (*sql.Rows, error) {
		return tx.StmtContext(ctx, h.st.Load()).QueryContext(ctx, args...)
	})
}

// queryHot runs h prepared on the read pool, or its text in the write
// transaction in ctx.
func (s *Store) queryHot(ctx context.Context, h *hotStmt, args ...any) (*sql.Rows, error) {
	if tx := s.txFrom(ctx); tx != nil {
		return tx.QueryContext(ctx, h.text, args...)
	}
	st, err := s.stmt(ctx, h)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// DecisionFacts implements mandates.FactsStore: the person's
// representations with their organisations in one statement, and the
// actor's memberships, in one read transaction.
func (s *Store) DecisionFacts(ctx context.Context, personID, actorID string) (mandates.Facts, error) {
	var f mandates.Facts
	err := s.readHot(ctx, []*hotStmt{&s.hot.facts, &s.hot.memberships}, func(query func(*hotStmt, ...any) (*sql.Rows, error)) error {
		rows, err := query(&s.hot.facts, personID)
		if err != nil {
			return mapErr(err, "representation")
		}
		if f.Representations, f.Organisations, err = scanFacts(rows); err != nil {
			return err
		}
		if actorID == "" {
			return nil
		}
		rows, err = query(&s.hot.memberships, actorID)
		if err != nil {
			return mapErr(err, "membership")
		}
		f.Memberships, f.ActorSecondFactor, err = scanMemberships(rows)
		return err
	})
	if err != nil {
		return mandates.Facts{}, fmt.Errorf("facts of a decision: %w", err)
	}
	return f, nil
}

// scanFacts reads factsRepresentationsSQL's rows and closes them.
func scanFacts(rows *sql.Rows) ([]mandates.Representation, map[string]mandates.Organisation, error) {
	defer rows.Close()
	var reps []mandates.Representation
	orgs := map[string]mandates.Organisation{}
	for rows.Next() {
		var id, name, kind, areas, createdBy sql.NullString
		var created, updated, version sql.NullInt64
		var street, postalCode, locality, country sql.NullString
		r, err := scanRepresentation(rows, &id, &name, &kind, &areas, &createdBy, &created, &updated, &version,
			&street, &postalCode, &locality, &country)
		if err != nil {
			return nil, nil, err
		}
		reps = append(reps, r)
		if !id.Valid {
			continue
		}
		o := mandates.Organisation{ID: id.String, Name: name.String, Kind: mandates.OrganisationKind(kind.String),
			CreatedBy: createdBy.String, CreatedAt: fromMS(created.Int64), UpdatedAt: fromMS(updated.Int64), Version: version.Int64,
			Address: mandates.Address{Street: street.String, PostalCode: postalCode.String, Locality: locality.String, Country: country.String}}
		if err := json.Unmarshal([]byte(areas.String), &o.Areas); err != nil {
			return nil, nil, fmt.Errorf("organisation %s: stored areas: %w", o.ID, err)
		}
		o.Areas = orNil(o.Areas)
		orgs[o.ID] = o
	}
	if err := rows.Err(); err != nil {
		return nil, nil, mapErr(err, "representation")
	}
	return reps, orgs, nil
}

// scanMemberships reads membershipColumns' rows and closes them.
func scanMemberships(rows *sql.Rows) ([]mandates.Membership, bool, error) {
	defer rows.Close()
	var out []mandates.Membership
	var secondFactor bool
	for rows.Next() {
		m, err := scanMembership(withSecondFactor{rows, &secondFactor})
		if err != nil {
			return nil, false, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, mapErr(err, "membership")
	}
	return out, secondFactor, nil
}

// withSecondFactor scans a membership row and its last column, whether
// the member has a confirmed second factor.
type withSecondFactor struct {
	row interface{ Scan(...any) error }
	on  *bool
}

func (w withSecondFactor) Scan(dest ...any) error { return w.row.Scan(append(dest, w.on)...) }
