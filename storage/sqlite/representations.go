package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/internal/jsoncol"
)

var _ mandates.ExpiryStore = (*Store)(nil)

const representationColumns = `r.id, r.kind, r.person_id, r.representative_person_id, r.representative_org_id, r.delegates,
	r.role, r.areas, r.granted, r.adjustments, r.valid_from, r.valid_until, r.status, r.source, r.created_at, r.updated_at, r.version`

// orNil reads an empty list back as nil, as the domain writes "none".
func orNil[T any](v []T) []T {
	if len(v) == 0 {
		return nil
	}
	return v
}

// nullIfEmpty keeps an empty id as NULL, for nullable references.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanRepresentation reads representationColumns, then extra.
func scanRepresentation(row interface{ Scan(...any) error }, extra ...any) (mandates.Representation, error) {
	var r mandates.Representation
	var repPerson, repOrg sql.NullString
	var delegates, areas, granted, adjustments, source string
	var from, created, updated int64
	var until sql.NullInt64
	err := row.Scan(append([]any{&r.ID, &r.Kind, &r.PersonID, &repPerson, &repOrg, &delegates, &r.Role, &areas, &granted,
		&adjustments, &from, &until, &r.Status, &source, &created, &updated, &r.Version}, extra...)...)
	if err != nil {
		return r, mapErr(err, "representation")
	}
	r.Representative.PersonID, r.Representative.OrganisationID = repPerson.String, repOrg.String
	for _, f := range []struct {
		name, raw string
		dst       any
	}{{"delegates", delegates, &r.Representative.Delegates}, {"areas", areas, &r.Areas}, {"granted", granted, &r.Granted},
		{"adjustments", adjustments, &r.Adjustments}, {"source", source, &r.Source}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return r, fmt.Errorf("representation %s: stored %s: %w", r.ID, f.name, err)
		}
	}
	r.Representative.Delegates, r.Areas, r.Granted, r.Adjustments =
		orNil(r.Representative.Delegates), orNil(r.Areas), orNil(r.Granted), orNil(r.Adjustments)
	r.ValidFrom, r.ValidUntil = fromMS(from), fromNullMS(until)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
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
	var decisionKey any
	var reference string
	if d := r.Source.Decision; d != nil {
		decisionKey, reference = d.Key(), d.Reference
	}
	rep := r.Representative
	return []any{string(r.Kind), r.PersonID, nullIfEmpty(rep.PersonID), nullIfEmpty(rep.OrganisationID), rep.PersonID + rep.OrganisationID,
		jsoncol.Array(rep.Delegates), string(r.Role), jsoncol.Array(r.Areas), jsoncol.Array(r.Granted), jsoncol.Array(r.Adjustments),
		ms(r.ValidFrom), msOrNull(r.ValidUntil), string(r.Status), string(source), decisionKey, reference,
		ms(r.UpdatedAt), r.Version}, nil
}

func appendChange(ctx context.Context, q querier, id string, c mandates.Change) error {
	detail := c.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	b, _ := json.Marshal(detail) // a map of strings always marshals
	_, err := q.ExecContext(ctx, `INSERT INTO representation_history (representation_id, seq, at, actor_id, organisation_id,
		type, from_status, to_status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, c.Seq, ms(c.At), c.ActorID, c.OrganisationID, string(c.Type), string(c.From), string(c.To), string(b))
	if err != nil {
		return fmt.Errorf("append history of representation %s: %w", id, mapErr(err, "representation history"))
	}
	return nil
}

// history reads the entries up to version: each write adds one entry and
// one version, so a read outside a transaction that raced an update still
// returns the history of the row it read.
func history(ctx context.Context, q querier, id string, version int64) ([]mandates.Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, at, actor_id, organisation_id, type, from_status, to_status, detail
		FROM representation_history WHERE representation_id = ? AND seq <= ? ORDER BY seq`, id, version)
	if err != nil {
		return nil, fmt.Errorf("history of representation %s: %w", id, mapErr(err, "representation history"))
	}
	defer rows.Close()
	var out []mandates.Change
	for rows.Next() {
		var c mandates.Change
		var at int64
		var detail string
		if err := rows.Scan(&c.Seq, &at, &c.ActorID, &c.OrganisationID, &c.Type, &c.From, &c.To, &detail); err != nil {
			return nil, fmt.Errorf("history of representation %s: %w", id, mapErr(err, "representation history"))
		}
		if err := json.Unmarshal([]byte(detail), &c.Detail); err != nil {
			return nil, fmt.Errorf("history of representation %s: stored detail: %w", id, err)
		}
		if len(c.Detail) == 0 {
			c.Detail = nil
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of representation %s: %w", id, mapErr(err, "representation history"))
	}
	return out, nil
}

func representation(ctx context.Context, q querier, id string) (mandates.Representation, error) {
	r, err := scanRepresentation(q.QueryRowContext(ctx, `SELECT `+representationColumns+` FROM representations r WHERE r.id = ?`, id))
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
	now := fromMS(ms(s.now()))
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
		_, err := q.ExecContext(ctx, `INSERT INTO representations (id, created_at, kind, person_id, representative_person_id,
			representative_org_id, representative_key, delegates, role, areas, granted, adjustments, valid_from, valid_until,
			status, source, decision_key, decision_reference, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{r.ID, ms(r.CreatedAt)}, row...)...)
		if err != nil {
			return fmt.Errorf("create representation %s: %w", r.ID, mapErr(err, "representation"))
		}
		return appendChange(ctx, q, r.ID, first)
	})
}

// Representation implements mandates.RepresentationStore.
func (s *Store) Representation(ctx context.Context, id string) (mandates.Representation, error) {
	r, err := representation(ctx, s.reader(ctx), id)
	if err != nil {
		return r, fmt.Errorf("representation %s: %w", id, err)
	}
	return r, nil
}

// UpdateRepresentation implements mandates.RepresentationStore. The single
// writer makes the read and the write atomic; the version check guards
// against a writer in another process all the same.
func (s *Store) UpdateRepresentation(ctx context.Context, id string, fn func(*mandates.Representation) (mandates.Change, error)) (mandates.Representation, error) {
	var out mandates.Representation
	err := s.write(ctx, func(q querier) error {
		old, err := representation(ctx, q, id)
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		r, c, err := mandates.ApplyRepresentationUpdate(old, fn, fromMS(ms(s.now())))
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		row, err := representationRow(&r)
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		// A new end date is a new expiry to record (mandates.ExpiryStore).
		newEnd := !r.ValidUntil.Equal(old.ValidUntil)
		res, err := q.ExecContext(ctx, `UPDATE representations SET kind = ?, person_id = ?, representative_person_id = ?,
			representative_org_id = ?, representative_key = ?, delegates = ?, role = ?, areas = ?, granted = ?, adjustments = ?,
			valid_from = ?, valid_until = ?, status = ?, source = ?, decision_key = ?, decision_reference = ?, updated_at = ?,
			version = ?, expiry_recorded_at = CASE WHEN ? THEN NULL ELSE expiry_recorded_at END
			WHERE id = ? AND version = ?`, append(row, newEnd, id, old.Version)...)
		if err != nil {
			return fmt.Errorf("update representation %s: %w", id, mapErr(err, "representation"))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update representation %s: %w", id, mandates.ErrConflict)
		}
		if err := appendChange(ctx, q, id, c); err != nil {
			return err
		}
		if out, err = representation(ctx, q, id); err != nil {
			return fmt.Errorf("update representation %s: %w", id, err)
		}
		return nil
	})
	return out, err
}

// representations runs a listing query, newest first, without history.
func (s *Store) representations(ctx context.Context, what, where string, args ...any) ([]mandates.Representation, error) {
	return s.listRepresentations(ctx, what, `SELECT `+representationColumns+` FROM representations r
		WHERE `+where+` ORDER BY r.created_at DESC, r.id DESC`, args...)
}

// listRepresentations runs a query of representationColumns, without
// history.
func (s *Store) listRepresentations(ctx context.Context, what, query string, args ...any) ([]mandates.Representation, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, query, args...)
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
	return s.representations(ctx, "representations of a person", `r.person_id = ?`, personID)
}

// RepresentationsBy implements mandates.RepresentationStore.
func (s *Store) RepresentationsBy(ctx context.Context, personID string, organisationIDs []string) ([]mandates.Representation, error) {
	return s.representations(ctx, "representations held by a person",
		`r.representative_person_id = ? OR r.representative_org_id IN (SELECT value FROM json_each(?))`,
		personID, jsoncol.Array(organisationIDs))
}

// expiryDue is the condition of the index representations_expiry_due
// (migration 00015), word for word, so that SQLite uses it: in force as
// stored (mandates.StatusActive, mandates.StatusSuspended), expiry not
// recorded.
const expiryDue = `r.expiry_recorded_at IS NULL AND r.status IN ('active', 'suspended')`

// ExpiriesDue implements mandates.ExpiryStore.
func (s *Store) ExpiriesDue(ctx context.Context, now time.Time, limit int) ([]mandates.Representation, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.listRepresentations(ctx, "expiries due", `SELECT `+representationColumns+` FROM representations r
		WHERE `+expiryDue+` AND r.valid_until <= ? ORDER BY r.valid_until, r.id LIMIT ?`, ms(now), limit)
}

// RecordExpiry implements mandates.ExpiryStore. The conditional update is
// what keeps two instances from both recording one expiry: the second
// finds the version moved and the marker set, and writes nothing.
func (s *Store) RecordExpiry(ctx context.Context, id string, version int64, c mandates.Change) (mandates.Representation, error) {
	var out mandates.Representation
	err := s.write(ctx, func(q querier) error {
		now := fromMS(ms(s.now()))
		at := now
		if !c.At.IsZero() {
			at = c.At
		}
		var status mandates.Status
		err := q.QueryRowContext(ctx, `UPDATE representations SET expiry_recorded_at = ?, updated_at = ?, version = version + 1
			WHERE id = ? AND version = ? AND expiry_recorded_at IS NULL RETURNING status`,
			ms(at), ms(now), id, version).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			var found bool
			if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM representations WHERE id = ?)`, id).Scan(&found); err != nil {
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
		if out, err = representation(ctx, q, id); err != nil {
			return fmt.Errorf("record expiry of representation %s: %w", id, err)
		}
		return nil
	})
	return out, err
}

// measureKinds are the kinds SearchMeasures looks at.
func measureKinds() []mandates.Kind {
	var out []mandates.Kind
	for _, k := range mandates.Kinds {
		if k.IsMeasure() {
			out = append(out, k)
		}
	}
	return out
}

// SearchMeasures implements mandates.RepresentationStore. SQLite's lower()
// and LIKE fold ASCII only, and names are French ("LEFÈVRE"): the query is
// matched here, with Unicode case folding, on the measures read newest
// first, until limit of them match.
func (s *Store) SearchMeasures(ctx context.Context, query string, limit int) ([]mandates.Representation, error) {
	if limit <= 0 {
		limit = 50
	}
	needle := strings.ToLower(strings.TrimSpace(query))
	sqlLimit := limit
	if needle != "" {
		sqlLimit = -1 // no limit: the rows are filtered below
	}
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+representationColumns+`,
		p.given_names, p.family_name, p.preferred_name, p.email, r.decision_reference
		FROM representations r JOIN persons p ON p.id = r.person_id
		WHERE r.kind IN (SELECT value FROM json_each(?))
		ORDER BY r.created_at DESC, r.id DESC LIMIT ?`, jsoncol.Array(measureKinds()), sqlLimit)
	if err != nil {
		return nil, fmt.Errorf("search measures: %w", mapErr(err, "representation"))
	}
	defer rows.Close()
	var out []mandates.Representation
	for len(out) < limit && rows.Next() {
		var fields [5]string
		r, err := scanRepresentation(rows, &fields[0], &fields[1], &fields[2], &fields[3], &fields[4])
		if err != nil {
			return nil, fmt.Errorf("search measures: %w", err)
		}
		match := needle == ""
		for _, f := range fields {
			match = match || strings.Contains(strings.ToLower(f), needle)
		}
		if match {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search measures: %w", mapErr(err, "representation"))
	}
	return out, nil
}

// RepresentationsByDecision implements mandates.RepresentationStore.
func (s *Store) RepresentationsByDecision(ctx context.Context, key string) ([]mandates.Representation, error) {
	return s.representations(ctx, "representations of a decision", `r.decision_key = ?`, key)
}

// DecisionRegistered implements mandates.RepresentationStore.
func (s *Store) DecisionRegistered(ctx context.Context, key string) (bool, error) {
	var found bool
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM representations WHERE decision_key = ?)`, key).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("decision registered: %w", mapErr(err, "representation"))
	}
	return found, nil
}

func consentCode(ctx context.Context, q querier, representationID string) (mandates.ConsentCode, error) {
	c := mandates.ConsentCode{RepresentationID: representationID}
	var sent, expires int64
	var used sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT code_hash, attempts, sent_at, expires_at, used_at FROM consent_codes
		WHERE representation_id = ?`, representationID).Scan(&c.CodeHash, &c.Attempts, &sent, &expires, &used)
	if err != nil {
		return c, mapErr(err, "consent code")
	}
	c.SentAt, c.ExpiresAt, c.UsedAt = fromMS(sent), fromMS(expires), fromNullMS(used)
	return c, nil
}

// SaveConsentCode implements mandates.ConsentCodeStore.
func (s *Store) SaveConsentCode(ctx context.Context, c mandates.ConsentCode) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO consent_codes (representation_id, code_hash, attempts, sent_at, expires_at, used_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (representation_id) DO UPDATE SET code_hash = excluded.code_hash,
			attempts = excluded.attempts, sent_at = excluded.sent_at, expires_at = excluded.expires_at, used_at = excluded.used_at`,
			c.RepresentationID, c.CodeHash, c.Attempts, ms(c.SentAt), ms(c.ExpiresAt), msOrNull(c.UsedAt))
		if err != nil {
			return fmt.Errorf("save consent code: %w", mapErr(err, "consent code"))
		}
		return nil
	})
}

// ConsentCode implements mandates.ConsentCodeStore.
func (s *Store) ConsentCode(ctx context.Context, representationID string) (mandates.ConsentCode, error) {
	c, err := consentCode(ctx, s.reader(ctx), representationID)
	if err != nil {
		return c, fmt.Errorf("consent code: %w", err)
	}
	return c, nil
}

// UpdateConsentCode implements mandates.ConsentCodeStore.
func (s *Store) UpdateConsentCode(ctx context.Context, representationID string, fn func(*mandates.ConsentCode) error) (mandates.ConsentCode, error) {
	var out mandates.ConsentCode
	err := s.write(ctx, func(q querier) error {
		old, err := consentCode(ctx, q, representationID)
		if err != nil {
			return fmt.Errorf("update consent code: %w", err)
		}
		c, err := mandates.ApplyConsentCodeUpdate(old, fn)
		if err != nil {
			return fmt.Errorf("update consent code: %w", err)
		}
		_, err = q.ExecContext(ctx, `UPDATE consent_codes SET code_hash = ?, attempts = ?, sent_at = ?, expires_at = ?, used_at = ?
			WHERE representation_id = ?`, c.CodeHash, c.Attempts, ms(c.SentAt), ms(c.ExpiresAt), msOrNull(c.UsedAt), representationID)
		if err != nil {
			return fmt.Errorf("update consent code: %w", mapErr(err, "consent code"))
		}
		if out, err = consentCode(ctx, q, representationID); err != nil {
			return fmt.Errorf("update consent code: %w", err)
		}
		return nil
	})
	return out, err
}
