package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/internal/jsoncol"
)

var _ mandates.ExpiryStore = (*Store)(nil)

const representationColumns = `r.id::text, r.kind, r.person_id::text, r.representative_person_id::text,
	r.representative_org_id::text, r.delegates::text[], r.role, r.areas, r.granted, r.adjustments, r.valid_from, r.valid_until,
	r.status, r.source, r.created_at, r.updated_at, r.version`

// texts writes a list of codes as a text[], never NULL.
func texts[T ~string](v []T) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = string(s)
	}
	return out
}

// typed reads a text[] back as codes; an empty list reads back as nil, as
// the domain writes "none".
func typed[T ~string](v []string) []T {
	if len(v) == 0 {
		return nil
	}
	out := make([]T, len(v))
	for i, s := range v {
		out[i] = T(s)
	}
	return out
}

// nullID keeps an empty id as NULL, for nullable references.
func nullID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ids keeps the well-formed ids: no stored row has another.
func ids(v []string) []string {
	out := []string{}
	for _, id := range v {
		if mandates.IsID(id) {
			out = append(out, id)
		}
	}
	return out
}

// scanRepresentation reads representationColumns.
func scanRepresentation(row interface{ Scan(...any) error }) (mandates.Representation, error) {
	var r mandates.Representation
	var repPerson, repOrg *string
	var delegates, areas, granted []string
	var adjustments, source []byte
	var until *time.Time
	err := row.Scan(&r.ID, &r.Kind, &r.PersonID, &repPerson, &repOrg, &delegates, &r.Role, &areas, &granted,
		&adjustments, &r.ValidFrom, &until, &r.Status, &source, &r.CreatedAt, &r.UpdatedAt, &r.Version)
	if err != nil {
		return r, mapErr(err, "representation")
	}
	if repPerson != nil {
		r.Representative.PersonID = *repPerson
	}
	if repOrg != nil {
		r.Representative.OrganisationID = *repOrg
	}
	r.Representative.Delegates = typed[string](delegates)
	r.Areas, r.Granted = typed[mandates.Area](areas), typed[mandates.Action](granted)
	if err := json.Unmarshal(adjustments, &r.Adjustments); err != nil {
		return r, fmt.Errorf("representation %s: stored adjustments: %w", r.ID, err)
	}
	if len(r.Adjustments) == 0 {
		r.Adjustments = nil
	}
	if err := json.Unmarshal(source, &r.Source); err != nil {
		return r, fmt.Errorf("representation %s: stored source: %w", r.ID, err)
	}
	r.ValidFrom = r.ValidFrom.UTC()
	if until != nil {
		r.ValidUntil = until.UTC()
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

// representationRow is r as the columns after id and created_at store it:
// kind, person_id, representative_person_id, representative_org_id,
// representative_key, delegates, role, areas, granted, adjustments,
// valid_from, valid_until, status, source, decision_key,
// decision_reference, updated_at, version.
func representationRow(r *mandates.Representation) ([]any, error) {
	source, err := json.Marshal(r.Source)
	if err != nil {
		return nil, fmt.Errorf("source: %v: %w", err, &mandates.InvalidError{Field: "source", Rule: mandates.RuleFormat})
	}
	// The decision's key makes one registration per decision and
	// representative (the unique index representations_decision).
	var decisionKey *string
	var reference string
	if d := r.Source.Decision; d != nil {
		k := d.Key()
		decisionKey, reference = &k, d.Reference
	}
	rep := r.Representative
	return []any{string(r.Kind), r.PersonID, nullID(rep.PersonID), nullID(rep.OrganisationID), rep.PersonID + rep.OrganisationID,
		list(rep.Delegates), string(r.Role), texts(r.Areas), texts(r.Granted), jsoncol.Array(r.Adjustments),
		r.ValidFrom.UTC(), nullTime(r.ValidUntil), string(r.Status), string(source), decisionKey, reference,
		r.UpdatedAt, r.Version}, nil
}

func appendChange(ctx context.Context, q querier, id string, c mandates.Change) error {
	detail := c.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	b, _ := json.Marshal(detail) // a map of strings always marshals
	_, err := q.Exec(ctx, `INSERT INTO representation_history (representation_id, seq, at, actor_id, organisation_id,
		type, from_status, to_status, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, c.Seq, c.At.UTC(), c.ActorID, c.OrganisationID, string(c.Type), string(c.From), string(c.To), string(b))
	if err != nil {
		return fmt.Errorf("append history of representation %s: %w", id, mapErr(err, "representation history"))
	}
	return nil
}

// history reads the entries up to version: each write adds one entry and
// one version, so a read outside a transaction that raced an update still
// returns the history of the row it read.
func history(ctx context.Context, q querier, id string, version int64) ([]mandates.Change, error) {
	rows, err := q.Query(ctx, `SELECT seq, at, actor_id, organisation_id, type, from_status, to_status, detail
		FROM representation_history WHERE representation_id = $1 AND seq <= $2 ORDER BY seq`, id, version)
	if err != nil {
		return nil, fmt.Errorf("history of representation %s: %w", id, mapErr(err, "representation history"))
	}
	defer rows.Close()
	var out []mandates.Change
	for rows.Next() {
		var c mandates.Change
		var detail []byte
		if err := rows.Scan(&c.Seq, &c.At, &c.ActorID, &c.OrganisationID, &c.Type, &c.From, &c.To, &detail); err != nil {
			return nil, fmt.Errorf("history of representation %s: %w", id, mapErr(err, "representation history"))
		}
		if err := json.Unmarshal(detail, &c.Detail); err != nil {
			return nil, fmt.Errorf("history of representation %s: stored detail: %w", id, err)
		}
		if len(c.Detail) == 0 {
			c.Detail = nil
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of representation %s: %w", id, mapErr(err, "representation history"))
	}
	return out, nil
}

// representation reads one representation with its history; forUpdate
// locks its row for the transaction.
func representation(ctx context.Context, q querier, id string, forUpdate bool) (mandates.Representation, error) {
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE"
	}
	r, err := scanRepresentation(q.QueryRow(ctx, `SELECT `+representationColumns+` FROM representations r WHERE r.id = $1`+lock, id))
	if err != nil {
		return r, err
	}
	if r.History, err = history(ctx, q, id, r.Version); err != nil {
		return r, err
	}
	return r, nil
}

// CreateRepresentation implements mandates.RepresentationStore.
func (s *Store) CreateRepresentation(ctx context.Context, r mandates.Representation, first mandates.Change) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	r.CreatedAt, r.UpdatedAt, r.Version = now, now, 1
	first, err := mandates.StampChange(first, 1, "", r.Status, now)
	if err != nil {
		return err
	}
	row, err := representationRow(&r)
	if err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO representations (id, created_at, kind, person_id, representative_person_id,
			representative_org_id, representative_key, delegates, role, areas, granted, adjustments, valid_from, valid_until,
			status, source, decision_key, decision_reference, updated_at, version)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			append([]any{r.ID, r.CreatedAt}, row...)...)
		if err != nil {
			return fmt.Errorf("create representation %s: %w", r.ID, mapErr(err, "representation"))
		}
		return appendChange(ctx, q, r.ID, first)
	})
}

// Representation implements mandates.RepresentationStore.
func (s *Store) Representation(ctx context.Context, id string) (mandates.Representation, error) {
	if !mandates.IsID(id) {
		return mandates.Representation{}, fmt.Errorf("representation %q: %w", id, mandates.ErrNotFound)
	}
	r, err := representation(ctx, s.q(ctx), id, false)
	if err != nil {
		return r, fmt.Errorf("representation %s: %w", id, err)
	}
	return r, nil
}

// UpdateRepresentation implements mandates.RepresentationStore: the row is
// locked for the transaction (FOR UPDATE), so concurrent updates queue
// instead of losing one another; the version check stays as a second
// guard.
func (s *Store) UpdateRepresentation(ctx context.Context, id string, fn func(*mandates.Representation) (mandates.Change, error)) (mandates.Representation, error) {
	if !mandates.IsID(id) {
		return mandates.Representation{}, fmt.Errorf("update representation %q: %w", id, mandates.ErrNotFound)
	}
	var out mandates.Representation
	err := s.write(ctx, func(q querier) error {
		old, err := representation(ctx, q, id, true)
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		r, c, err := mandates.ApplyRepresentationUpdate(old, fn, s.now())
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		row, err := representationRow(&r)
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		// A new end date is a new expiry to record (mandates.ExpiryStore).
		newEnd := !r.ValidUntil.Equal(old.ValidUntil)
		tag, err := q.Exec(ctx, `UPDATE representations SET kind = $1, person_id = $2, representative_person_id = $3,
			representative_org_id = $4, representative_key = $5, delegates = $6, role = $7, areas = $8, granted = $9,
			adjustments = $10, valid_from = $11, valid_until = $12, status = $13, source = $14, decision_key = $15,
			decision_reference = $16, updated_at = $17, version = $18,
			expiry_recorded_at = CASE WHEN $21::boolean THEN NULL ELSE expiry_recorded_at END
			WHERE id = $19 AND version = $20`,
			append(row, id, old.Version, newEnd)...)
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, mapErr(err, "representation"))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update representation %s: %w", id, mandates.ErrConflict)
		}
		if err := appendChange(ctx, q, id, c); err != nil {
			return err
		}
		if out, err = representation(ctx, q, id, false); err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		return nil
	})
	return out, err
}

// newestFirst orders listings.
const newestFirst = ` ORDER BY r.created_at DESC, r.id DESC`

// representations runs a listing query, without history: rest follows
// SELECT representationColumns FROM.
func (s *Store) representations(ctx context.Context, what, rest string, args ...any) ([]mandates.Representation, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+representationColumns+` FROM `+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err, "representation"))
	}
	defer rows.Close()
	var out []mandates.Representation
	for rows.Next() {
		r, err := scanRepresentation(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err, "representation"))
	}
	return out, nil
}

// RepresentationsOf implements mandates.RepresentationStore.
func (s *Store) RepresentationsOf(ctx context.Context, personID string) ([]mandates.Representation, error) {
	if !mandates.IsID(personID) {
		return nil, nil
	}
	return s.representations(ctx, "representations of a person", `representations r WHERE r.person_id = $1`+newestFirst, personID)
}

// RepresentationsBy implements mandates.RepresentationStore.
func (s *Store) RepresentationsBy(ctx context.Context, personID string, organisationIDs []string) ([]mandates.Representation, error) {
	var person *string
	if mandates.IsID(personID) {
		person = &personID
	}
	return s.representations(ctx, "representations held by a person",
		`representations r WHERE r.representative_person_id = $1 OR r.representative_org_id = ANY($2::uuid[])`+newestFirst,
		person, ids(organisationIDs))
}

// expiryDue is the condition of the index representations_expiry_due
// (migration 00015), word for word, so that the planner can prove the
// index covers the query: in force as stored (mandates.StatusActive,
// mandates.StatusSuspended), expiry not recorded.
const expiryDue = `r.expiry_recorded_at IS NULL AND r.status IN ('active', 'suspended')`

// ExpiriesDue implements mandates.ExpiryStore.
func (s *Store) ExpiriesDue(ctx context.Context, now time.Time, limit int) ([]mandates.Representation, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.representations(ctx, "expiries due", `representations r WHERE `+expiryDue+` AND r.valid_until <= $1
		ORDER BY r.valid_until, r.id LIMIT $2`, now.UTC(), limit)
}

// RecordExpiry implements mandates.ExpiryStore. The conditional update is
// what keeps two instances from both recording one expiry: the second
// waits for the first's row lock, then finds the version moved and the
// marker set, and writes nothing.
func (s *Store) RecordExpiry(ctx context.Context, id string, version int64, c mandates.Change) (mandates.Representation, error) {
	if !mandates.IsID(id) {
		return mandates.Representation{}, fmt.Errorf("record expiry of representation %q: %w", id, mandates.ErrNotFound)
	}
	var out mandates.Representation
	err := s.write(ctx, func(q querier) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		at := now
		if !c.At.IsZero() {
			at = c.At.UTC()
		}
		var status mandates.Status
		err := q.QueryRow(ctx, `UPDATE representations SET expiry_recorded_at = $1, updated_at = $2, version = version + 1
			WHERE id = $3 AND version = $4 AND expiry_recorded_at IS NULL RETURNING status`,
			at, now, id, version).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			var found bool
			if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM representations WHERE id = $1)`, id).Scan(&found); err != nil {
				return fmt.Errorf("record expiry of representation %s: %w", id, mapErr(err, "representation"))
			}
			if !found {
				return fmt.Errorf("record expiry of representation %s: %w", id, mandates.ErrNotFound)
			}
			return fmt.Errorf("record expiry of representation %s: %w: changed or recorded since version %d", id, mandates.ErrConflict, version)
		}
		if err != nil {
			return fmt.Errorf("record expiry of representation %s: %w", id, mapErr(err, "representation"))
		}
		// Each write adds one version and one history entry: the entry's
		// seq is the new version (history reads up to it).
		if c, err = mandates.StampChange(c, version+1, status, status, now); err != nil {
			return fmt.Errorf("record expiry of representation %s: %w", id, err)
		}
		if err := appendChange(ctx, q, id, c); err != nil {
			return err
		}
		if out, err = representation(ctx, q, id, false); err != nil {
			return fmt.Errorf("record expiry of representation %s: %w", id, err)
		}
		return nil
	})
	return out, err
}

// measureKinds are the kinds SearchMeasures looks at.
func measureKinds() []string {
	var out []string
	for _, k := range mandates.Kinds {
		if k.IsMeasure() {
			out = append(out, string(k))
		}
	}
	return out
}

// SearchMeasures implements mandates.RepresentationStore. lower() folds
// case as the database's LC_CTYPE says: every letter under a UTF-8 locale,
// ASCII only under C.
func (s *Store) SearchMeasures(ctx context.Context, query string, limit int) ([]mandates.Representation, error) {
	if limit <= 0 {
		limit = 50
	}
	return s.representations(ctx, "search measures", `representations r JOIN persons p ON p.id = r.person_id
		WHERE r.kind = ANY($1) AND ($2 = '' OR strpos(lower(p.given_names), lower($2)) > 0
			OR strpos(lower(p.family_name), lower($2)) > 0 OR strpos(lower(p.preferred_name), lower($2)) > 0
			OR strpos(lower(p.email), lower($2)) > 0 OR strpos(lower(r.decision_reference), lower($2)) > 0)`+
		newestFirst+` LIMIT $3`, measureKinds(), strings.TrimSpace(query), limit)
}

// RepresentationsByDecision implements mandates.RepresentationStore.
func (s *Store) RepresentationsByDecision(ctx context.Context, key string) ([]mandates.Representation, error) {
	return s.representations(ctx, "representations of a decision", `representations r WHERE r.decision_key = $1`+newestFirst, key)
}

// DecisionRegistered implements mandates.RepresentationStore.
func (s *Store) DecisionRegistered(ctx context.Context, key string) (bool, error) {
	var found bool
	err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM representations WHERE decision_key = $1)`, key).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("decision registered: %w", mapErr(err, "representation"))
	}
	return found, nil
}

// consentCode reads a code; forUpdate locks its row for the transaction.
func consentCode(ctx context.Context, q querier, representationID string, forUpdate bool) (mandates.ConsentCode, error) {
	c := mandates.ConsentCode{RepresentationID: representationID}
	if !mandates.IsID(representationID) {
		return c, mandates.ErrNotFound
	}
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE"
	}
	var used *time.Time
	err := q.QueryRow(ctx, `SELECT code_hash, attempts, sent_at, expires_at, used_at FROM consent_codes
		WHERE representation_id = $1`+lock, representationID).Scan(&c.CodeHash, &c.Attempts, &c.SentAt, &c.ExpiresAt, &used)
	if err != nil {
		return c, mapErr(err, "consent code")
	}
	c.SentAt, c.ExpiresAt = c.SentAt.UTC(), c.ExpiresAt.UTC()
	if used != nil {
		c.UsedAt = used.UTC()
	}
	return c, nil
}

// SaveConsentCode implements mandates.ConsentCodeStore.
func (s *Store) SaveConsentCode(ctx context.Context, c mandates.ConsentCode) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO consent_codes (representation_id, code_hash, attempts, sent_at, expires_at, used_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (representation_id) DO UPDATE SET code_hash = excluded.code_hash,
			attempts = excluded.attempts, sent_at = excluded.sent_at, expires_at = excluded.expires_at, used_at = excluded.used_at`,
			c.RepresentationID, c.CodeHash, c.Attempts, c.SentAt.UTC(), c.ExpiresAt.UTC(), nullTime(c.UsedAt))
		if err != nil {
			return fmt.Errorf("save consent code: %w", mapErr(err, "consent code"))
		}
		return nil
	})
}

// ConsentCode implements mandates.ConsentCodeStore.
func (s *Store) ConsentCode(ctx context.Context, representationID string) (mandates.ConsentCode, error) {
	c, err := consentCode(ctx, s.q(ctx), representationID, false)
	if err != nil {
		return c, fmt.Errorf("consent code: %w", err)
	}
	return c, nil
}

// UpdateConsentCode implements mandates.ConsentCodeStore: the row is locked
// for the transaction, so concurrent wrong codes are all counted.
func (s *Store) UpdateConsentCode(ctx context.Context, representationID string, fn func(*mandates.ConsentCode) error) (mandates.ConsentCode, error) {
	var out mandates.ConsentCode
	err := s.write(ctx, func(q querier) error {
		old, err := consentCode(ctx, q, representationID, true)
		if err != nil {
			return fmt.Errorf("update consent code: %w", err)
		}
		c, err := mandates.ApplyConsentCodeUpdate(old, fn)
		if err != nil {
			return fmt.Errorf("update consent code: %w", err)
		}
		_, err = q.Exec(ctx, `UPDATE consent_codes SET code_hash = $1, attempts = $2, sent_at = $3, expires_at = $4, used_at = $5
			WHERE representation_id = $6`, c.CodeHash, c.Attempts, c.SentAt.UTC(), c.ExpiresAt.UTC(), nullTime(c.UsedAt), representationID)
		if err != nil {
			return fmt.Errorf("update consent code: %w", mapErr(err, "consent code"))
		}
		if out, err = consentCode(ctx, q, representationID, false); err != nil {
			return fmt.Errorf("update consent code: %w", err)
		}
		return nil
	})
	return out, err
}
