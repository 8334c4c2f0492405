package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

var _ keyring.KeyStore = (*Store)(nil)

const keyColumns = `id, alg, generation, public_jwk, private_sealed, created_at, sign_from, retired_at, publish_until`

// msOrNull keeps a zero time as NULL: "not retired yet".
func msOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func scanKey(row interface{ Scan(...any) error }) (keyring.SigningKey, error) {
	var k keyring.SigningKey
	var public string
	var created, signFrom int64
	var retired, until sql.NullInt64
	if err := row.Scan(&k.ID, &k.Alg, &k.Generation, &public, &k.Private, &created, &signFrom, &retired, &until); err != nil {
		return k, keyErr(err)
	}
	k.Public = []byte(public)
	k.CreatedAt, k.SignFrom = fromMS(created), fromMS(signFrom)
	k.RetiredAt, k.PublishUntil = fromNullMS(retired), fromNullMS(until)
	return k, nil
}

// keyErr is mapErr with the field of the (alg, generation) constraint,
// which SQLite reports as "signing_keys.alg, signing_keys.generation".
func keyErr(err error) error {
	err = mapErr(err, "signing key")
	var ue *mandates.UniqueError
	if errors.As(err, &ue) && strings.HasPrefix(ue.Field, "alg") {
		ue.Field = "generation"
	}
	return err
}

// CreateSigningKey implements keyring.KeyStore.
func (s *Store) CreateSigningKey(ctx context.Context, k keyring.SigningKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Alg, k.Generation, string(k.Public), k.Private, ms(k.CreatedAt), ms(k.SignFrom), msOrNull(k.RetiredAt), msOrNull(k.PublishUntil))
		if err != nil {
			return fmt.Errorf("create signing key %s: %w", k.ID, keyErr(err))
		}
		return nil
	})
}

// SigningKeys implements keyring.KeyStore.
func (s *Store) SigningKeys(ctx context.Context) ([]keyring.SigningKey, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY alg, generation`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", keyErr(err))
	}
	defer rows.Close()
	var out []keyring.SigningKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", keyErr(err))
	}
	return out, nil
}

// UpdateSigningKey implements keyring.KeyStore.
func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(*keyring.SigningKey) error) (keyring.SigningKey, error) {
	var out keyring.SigningKey
	err := s.write(ctx, func(q querier) error {
		old, err := scanKey(q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("update signing key %s: %w", id, err)
		}
		k, err := keyring.ApplySigningKeyUpdate(old, fn)
		if err != nil {
			return fmt.Errorf("update signing key %s: %w", id, err)
		}
		// The old values stand in for a version: a row changed since it
		// was read is not overwritten.
		res, err := q.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?, publish_until = ?
			WHERE id = ? AND retired_at IS ? AND publish_until IS ?`,
			msOrNull(k.RetiredAt), msOrNull(k.PublishUntil), id, msOrNull(old.RetiredAt), msOrNull(old.PublishUntil))
		if err != nil {
			return fmt.Errorf("update signing key %s: %w", id, keyErr(err))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update signing key %s: %w", id, mandates.ErrConflict)
		}
		out = k
		return nil
	})
	return out, err
}
