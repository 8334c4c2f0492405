package sqlite

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
		if _, err := q.ExecContext(ctx, `DELETE FROM account_codes WHERE person_id = ? AND purpose = ?`, c.PersonID, string(c.Purpose)); err != nil {
			return fmt.Errorf("replace account code: %w", mapErr(err, "account code"))
		}
		_, err := q.ExecContext(ctx, `INSERT INTO account_codes (code_hash, person_id, purpose, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			c.Hash, c.PersonID, string(c.Purpose), ms(c.CreatedAt), ms(c.ExpiresAt))
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
	var created, expires int64
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT person_id, purpose, created_at, expires_at FROM account_codes WHERE code_hash = ?`, hash).
		Scan(&c.PersonID, &purpose, &created, &expires)
	if err != nil {
		return c, fmt.Errorf("account code: %w", mapErr(err, "account code"))
	}
	c.Purpose, c.CreatedAt, c.ExpiresAt = authn.CodePurpose(purpose), fromMS(created), fromMS(expires)
	return c, nil
}

// DeleteAccountCode implements authn.AccountCodeStore.
func (s *Store) DeleteAccountCode(ctx context.Context, hash []byte) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM account_codes WHERE code_hash = ?`, hash)
		if err != nil {
			return fmt.Errorf("delete account code: %w", mapErr(err, "account code"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete account code: %w", mandates.ErrNotFound)
		}
		return nil
	})
}
