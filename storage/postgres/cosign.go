package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/mandates"
)

var _ mandates.CosignatureStore = (*Store)(nil)

const cosignatureColumns = `id::text, client_id, person_id::text, actor_id::text, action, area, description,
	representation_id::text, party, status, created_at, expires_at, decided_at, decided_by, used_at, act_reported_at, version`

func scanCosignature(row interface{ Scan(...any) error }) (mandates.Cosignature, error) {
	var c mandates.Cosignature
	var decided, used, reported *time.Time
	err := row.Scan(&c.ID, &c.ClientID, &c.PersonID, &c.ActorID, &c.Action, &c.Area, &c.Description, &c.RepresentationID,
		&c.Party, &c.Status, &c.CreatedAt, &c.ExpiresAt, &decided, &c.DecidedBy, &used, &reported, &c.Version)
	if err != nil {
		return c, mapErr(err, "cosignature")
	}
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	if decided != nil {
		c.DecidedAt = decided.UTC()
	}
	if used != nil {
		c.UsedAt = used.UTC()
	}
	if reported != nil {
		c.ActReportedAt = reported.UTC()
	}
	return c, nil
}

// CreateCosignature implements mandates.CosignatureStore.
func (s *Store) CreateCosignature(ctx context.Context, c mandates.Cosignature) error {
	if err := c.Validate(); err != nil {
		return err
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO cosignatures (id, client_id, person_id, actor_id, action, area, description,
		representation_id, party, status, created_at, expires_at, decided_at, decided_by, used_at, act_reported_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1)`,
		c.ID, c.ClientID, c.PersonID, c.ActorID, string(c.Action), string(c.Area), c.Description, c.RepresentationID,
		string(c.Party), string(c.Status), c.CreatedAt.UTC(), c.ExpiresAt.UTC(), nullTime(c.DecidedAt), c.DecidedBy, nullTime(c.UsedAt), nullTime(c.ActReportedAt))
	if err != nil {
		return fmt.Errorf("create co-signature %s: %w", c.ID, mapErr(err, "cosignature"))
	}
	return nil
}

func cosignature(ctx context.Context, q querier, id string, forUpdate bool) (mandates.Cosignature, error) {
	if !mandates.IsID(id) {
		return mandates.Cosignature{}, fmt.Errorf("co-signature %q: %w", id, mandates.ErrNotFound)
	}
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE"
	}
	c, err := scanCosignature(q.QueryRow(ctx, `SELECT `+cosignatureColumns+` FROM cosignatures WHERE id = $1`+lock, id))
	if err != nil {
		return c, fmt.Errorf("co-signature %s: %w", id, err)
	}
	return c, nil
}

// Cosignature implements mandates.CosignatureStore.
func (s *Store) Cosignature(ctx context.Context, id string) (mandates.Cosignature, error) {
	return cosignature(ctx, s.q(ctx), id, false)
}

// UpdateCosignature implements mandates.CosignatureStore. The row is read
// FOR UPDATE: a concurrent update waits for this one and then reads what
// it wrote.
func (s *Store) UpdateCosignature(ctx context.Context, id string, fn func(*mandates.Cosignature) error) (mandates.Cosignature, error) {
	var out mandates.Cosignature
	err := s.write(ctx, func(q querier) error {
		old, err := cosignature(ctx, q, id, true)
		if err != nil {
			return fmt.Errorf("update %w", err)
		}
		c, err := mandates.ApplyCosignatureUpdate(old, fn)
		if err != nil {
			return fmt.Errorf("update co-signature %s: %w", id, err)
		}
		tag, err := q.Exec(ctx, `UPDATE cosignatures SET action = $1, area = $2, description = $3, party = $4, status = $5,
			expires_at = $6, decided_at = $7, decided_by = $8, used_at = $9, act_reported_at = $10, version = $11 WHERE id = $12 AND version = $13`,
			string(c.Action), string(c.Area), c.Description, string(c.Party), string(c.Status), c.ExpiresAt.UTC(),
			nullTime(c.DecidedAt), c.DecidedBy, nullTime(c.UsedAt), nullTime(c.ActReportedAt), c.Version, id, old.Version)
		if err != nil {
			return fmt.Errorf("update co-signature %s: %w", id, mapErr(err, "cosignature"))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update co-signature %s: %w", id, mandates.ErrConflict)
		}
		out = c
		return nil
	})
	return out, err
}

// CosignaturesAwaiting implements mandates.CosignatureStore.
func (s *Store) CosignaturesAwaiting(ctx context.Context, personID string, representationIDs []string) ([]mandates.Cosignature, error) {
	if !mandates.IsID(personID) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+cosignatureColumns+` FROM cosignatures
		WHERE status = 'pending' AND ((party = 'person' AND person_id = $1)
			OR (party = 'representative' AND representation_id = ANY ($2::uuid[])))
		ORDER BY created_at DESC, id DESC`, personID, list(representationIDs))
	if err != nil {
		return nil, fmt.Errorf("co-signatures awaiting: %w", mapErr(err, "cosignature"))
	}
	defer rows.Close()
	var out []mandates.Cosignature
	for rows.Next() {
		c, err := scanCosignature(rows)
		if err != nil {
			return nil, fmt.Errorf("co-signatures awaiting: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("co-signatures awaiting: %w", mapErr(err, "cosignature"))
	}
	return out, nil
}
