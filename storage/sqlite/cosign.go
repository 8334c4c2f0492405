package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/internal/jsoncol"
)

var _ mandates.CosignatureStore = (*Store)(nil)

const cosignatureColumns = `id, client_id, person_id, actor_id, action, area, description, representation_id, party, status,
	created_at, expires_at, decided_at, decided_by, used_at, act_reported_at, version`

func scanCosignature(row interface{ Scan(...any) error }) (mandates.Cosignature, error) {
	var c mandates.Cosignature
	var created, expires int64
	var decided, used, reported sql.NullInt64
	err := row.Scan(&c.ID, &c.ClientID, &c.PersonID, &c.ActorID, &c.Action, &c.Area, &c.Description, &c.RepresentationID,
		&c.Party, &c.Status, &created, &expires, &decided, &c.DecidedBy, &used, &reported, &c.Version)
	if err != nil {
		return c, mapErr(err, "cosignature")
	}
	c.CreatedAt, c.ExpiresAt, c.DecidedAt, c.UsedAt = fromMS(created), fromMS(expires), fromNullMS(decided), fromNullMS(used)
	c.ActReportedAt = fromNullMS(reported)
	return c, nil
}

// CreateCosignature implements mandates.CosignatureStore.
func (s *Store) CreateCosignature(ctx context.Context, c mandates.Cosignature) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO cosignatures (`+cosignatureColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			c.ID, c.ClientID, c.PersonID, c.ActorID, string(c.Action), string(c.Area), c.Description, c.RepresentationID,
			string(c.Party), string(c.Status), ms(c.CreatedAt), ms(c.ExpiresAt), msOrNull(c.DecidedAt), c.DecidedBy, msOrNull(c.UsedAt), msOrNull(c.ActReportedAt))
		if err != nil {
			return fmt.Errorf("create co-signature %s: %w", c.ID, mapErr(err, "cosignature"))
		}
		return nil
	})
}

// Cosignature implements mandates.CosignatureStore.
func (s *Store) Cosignature(ctx context.Context, id string) (mandates.Cosignature, error) {
	c, err := scanCosignature(s.reader(ctx).QueryRowContext(ctx, `SELECT `+cosignatureColumns+` FROM cosignatures WHERE id = ?`, id))
	if err != nil {
		return c, fmt.Errorf("co-signature %s: %w", id, err)
	}
	return c, nil
}

// UpdateCosignature implements mandates.CosignatureStore: the single
// writer holds the row from the read to the write.
func (s *Store) UpdateCosignature(ctx context.Context, id string, fn func(*mandates.Cosignature) error) (mandates.Cosignature, error) {
	var out mandates.Cosignature
	err := s.write(ctx, func(q querier) error {
		old, err := scanCosignature(q.QueryRowContext(ctx, `SELECT `+cosignatureColumns+` FROM cosignatures WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("update co-signature %s: %w", id, err)
		}
		c, err := mandates.ApplyCosignatureUpdate(old, fn)
		if err != nil {
			return fmt.Errorf("update co-signature %s: %w", id, err)
		}
		res, err := q.ExecContext(ctx, `UPDATE cosignatures SET action = ?, area = ?, description = ?, party = ?, status = ?,
			expires_at = ?, decided_at = ?, decided_by = ?, used_at = ?, act_reported_at = ?, version = ? WHERE id = ? AND version = ?`,
			string(c.Action), string(c.Area), c.Description, string(c.Party), string(c.Status), ms(c.ExpiresAt),
			msOrNull(c.DecidedAt), c.DecidedBy, msOrNull(c.UsedAt), msOrNull(c.ActReportedAt), c.Version, id, old.Version)
		if err != nil {
			return fmt.Errorf("update co-signature %s: %w", id, mapErr(err, "cosignature"))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update co-signature %s: %w", id, mandates.ErrConflict)
		}
		out = c
		return nil
	})
	return out, err
}

// CosignaturesAwaiting implements mandates.CosignatureStore.
func (s *Store) CosignaturesAwaiting(ctx context.Context, personID string, representationIDs []string) ([]mandates.Cosignature, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+cosignatureColumns+` FROM cosignatures
		WHERE status = 'pending' AND ((party = 'person' AND person_id = ?)
			OR (party = 'representative' AND representation_id IN (SELECT value FROM json_each(?))))
		ORDER BY created_at DESC, id DESC`, personID, jsoncol.Array(representationIDs))
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
