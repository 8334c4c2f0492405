package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

var _ keyring.KeyStore = (*Store)(nil)

const keyColumns = `id, alg, generation, public_jwk, private_sealed, created_at, sign_from, retired_at, publish_until`

// keyConstraints names the field behind each unique constraint of
// signing_keys (see 00002_signing_keys.sql).
var keyConstraints = map[string]string{
	"signing_keys_pkey":           "id",
	"signing_keys_generation_key": "generation",
}

func keyErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return &mandates.UniqueError{Entity: "signing key", Field: keyConstraints[pe.ConstraintName]}
	}
	return mapErr(err, "signing key")
}

// nullTime keeps a zero time as NULL: "not retired yet".
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func scanKey(row interface{ Scan(...any) error }) (keyring.SigningKey, error) {
	var k keyring.SigningKey
	var public string
	var retired, until *time.Time
	if err := row.Scan(&k.ID, &k.Alg, &k.Generation, &public, &k.Private, &k.CreatedAt, &k.SignFrom, &retired, &until); err != nil {
		return k, keyErr(err)
	}
	k.Public = []byte(public)
	k.CreatedAt, k.SignFrom = k.CreatedAt.UTC(), k.SignFrom.UTC()
	if retired != nil {
		k.RetiredAt = retired.UTC()
	}
	if until != nil {
		k.PublishUntil = until.UTC()
	}
	return k, nil
}

// CreateSigningKey implements keyring.KeyStore.
func (s *Store) CreateSigningKey(ctx context.Context, k keyring.SigningKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			k.ID, k.Alg, k.Generation, string(k.Public), k.Private, k.CreatedAt.UTC(), k.SignFrom.UTC(), nullTime(k.RetiredAt), nullTime(k.PublishUntil))
		if err != nil {
			return fmt.Errorf("create signing key %s: %w", k.ID, keyErr(err))
		}
		return nil
	})
}

// SigningKeys implements keyring.KeyStore.
func (s *Store) SigningKeys(ctx context.Context) ([]keyring.SigningKey, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY alg, generation`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", keyErr(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyring.SigningKey, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", keyErr(err))
	}
	return out, nil
}

// UpdateSigningKey implements keyring.KeyStore.
func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(*keyring.SigningKey) error) (keyring.SigningKey, error) {
	var out keyring.SigningKey
	err := s.write(ctx, func(q querier) error {
		old, err := scanKey(q.QueryRow(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("update signing key %s: %w", id, err)
		}
		k, err := keyring.ApplySigningKeyUpdate(old, fn)
		if err != nil {
			return fmt.Errorf("update signing key %s: %w", id, err)
		}
		// The old values stand in for a version: a row changed since it
		// was read is not overwritten.
		tag, err := q.Exec(ctx, `UPDATE signing_keys SET retired_at = $1, publish_until = $2
			WHERE id = $3 AND retired_at IS NOT DISTINCT FROM $4 AND publish_until IS NOT DISTINCT FROM $5`,
			nullTime(k.RetiredAt), nullTime(k.PublishUntil), id, nullTime(old.RetiredAt), nullTime(old.PublishUntil))
		if err != nil {
			return fmt.Errorf("update signing key %s: %w", id, keyErr(err))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update signing key %s: %w", id, mandates.ErrConflict)
		}
		out = k
		return nil
	})
	return out, err
}
