package postgres

import (
	"context"
	"fmt"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

var _ authn.AccountCodeStore = (*Store)(nil)

// ReplaceAccountCode implements authn.AccountCodeStore.
func (s *Store) ReplaceAccountCode(ctx context.Context, c authn.AccountCode) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM account_codes WHERE person_id = $1 AND purpose = $2`, c.PersonID, string(c.Purpose)); err != nil {
			return fmt.Errorf("replace account code: %w", mapErr(err, "account code"))
		}
		_, err := q.Exec(ctx, `INSERT INTO account_codes (code_hash, person_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			c.Hash, c.PersonID, string(c.Purpose), c.CreatedAt.UTC(), c.ExpiresAt.UTC())
		if err != nil {
			return fmt.Errorf("replace account code: %w", mapErr(err, "account code"))
		}
		return nil
	})
}

// AccountCodeByHash implements authn.AccountCodeStore.
func (s *Store) AccountCodeByHash(ctx context.Context, hash []byte) (authn.AccountCode, error) {
	c := authn.AccountCode{Hash: hash}
	var purpose string
	err := s.q(ctx).QueryRow(ctx, `SELECT person_id::text, purpose, created_at, expires_at FROM account_codes WHERE code_hash = $1`, hash).
		Scan(&c.PersonID, &purpose, &c.CreatedAt, &c.ExpiresAt)
	if err != nil {
		return c, fmt.Errorf("account code: %w", mapErr(err, "account code"))
	}
	c.Purpose, c.CreatedAt, c.ExpiresAt = authn.CodePurpose(purpose), c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	return c, nil
}

// DeleteAccountCode implements authn.AccountCodeStore.
func (s *Store) DeleteAccountCode(ctx context.Context, hash []byte) error {
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM account_codes WHERE code_hash = $1`, hash)
		if err != nil {
			return fmt.Errorf("delete account code: %w", mapErr(err, "account code"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("delete account code: %w", mandates.ErrNotFound)
		}
		return nil
	})
}
