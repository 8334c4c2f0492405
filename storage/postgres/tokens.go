package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

var _ oauth.TokenStore = (*Store)(nil)

// CreateToken implements oauth.TokenStore.
func (s *Store) CreateToken(ctx context.Context, r oauth.TokenRecord) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO oauth_tokens (kind, signature, request_id, client_id, subject, active, request, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active, r.Request,
			r.ExpiresAt.UTC(), s.now().UTC())
		if err != nil {
			return fmt.Errorf("create %s token: %w", r.Kind, mapErr(err, "token"))
		}
		return nil
	})
}

// Token implements oauth.TokenStore.
func (s *Store) Token(ctx context.Context, kind oauth.TokenKind, signature string) (oauth.TokenRecord, error) {
	r := oauth.TokenRecord{Kind: kind, Signature: signature}
	err := s.q(ctx).QueryRow(ctx, `SELECT request_id, client_id, subject, active, request, expires_at, created_at
		FROM oauth_tokens WHERE kind = $1 AND signature = $2`, string(kind), signature).
		Scan(&r.RequestID, &r.ClientID, &r.Subject, &r.Active, &r.Request, &r.ExpiresAt, &r.CreatedAt)
	if err != nil {
		return r, fmt.Errorf("%s token: %w", kind, mapErr(err, "token"))
	}
	r.ExpiresAt, r.CreatedAt = r.ExpiresAt.UTC(), r.CreatedAt.UTC()
	return r, nil
}

// DeleteToken implements oauth.TokenStore.
func (s *Store) DeleteToken(ctx context.Context, kind oauth.TokenKind, signature string) error {
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM oauth_tokens WHERE kind = $1 AND signature = $2`, string(kind), signature)
		if err != nil {
			return fmt.Errorf("delete %s token: %w", kind, mapErr(err, "token"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("delete %s token: %w", kind, mandates.ErrNotFound)
		}
		return nil
	})
}

// DeactivateToken implements oauth.TokenStore. The conditional update is
// the guard: of two concurrent uses, the second changes no row.
func (s *Store) DeactivateToken(ctx context.Context, kind oauth.TokenKind, signature string) error {
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE oauth_tokens SET active = false WHERE kind = $1 AND signature = $2 AND active`, string(kind), signature)
		if err != nil {
			return fmt.Errorf("deactivate %s token: %w", kind, mapErr(err, "token"))
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var one int
		err = mapErr(q.QueryRow(ctx, `SELECT 1 FROM oauth_tokens WHERE kind = $1 AND signature = $2`, string(kind), signature).Scan(&one), "token")
		if err != nil {
			return fmt.Errorf("deactivate %s token: %w", kind, err)
		}
		return fmt.Errorf("deactivate %s token: already inactive: %w", kind, mandates.ErrConflict)
	})
}

// DeactivateGrant implements oauth.TokenStore.
func (s *Store) DeactivateGrant(ctx context.Context, kind oauth.TokenKind, requestID string) (int64, error) {
	var n int64
	err := s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE oauth_tokens SET active = false WHERE request_id = $1 AND kind = $2 AND active`, requestID, string(kind))
		if err != nil {
			return fmt.Errorf("deactivate %s tokens of a grant: %w", kind, mapErr(err, "token"))
		}
		n = tag.RowsAffected()
		return nil
	})
	return n, err
}

// UseJTI implements oauth.TokenStore: an expired record of the same id is
// replaced, a live one is a replay.
func (s *Store) UseJTI(ctx context.Context, jti string, expiresAt, now time.Time) error {
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `INSERT INTO oauth_jtis (jti, expires_at) VALUES ($1, $2)
			ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE oauth_jtis.expires_at <= $3`, jti, expiresAt.UTC(), now.UTC())
		if err != nil {
			return fmt.Errorf("use jti: %w", mapErr(err, "jti"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("use jti: %w", &mandates.UniqueError{Entity: "jti", Field: "jti"})
		}
		return nil
	})
}
