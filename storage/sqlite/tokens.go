package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

var _ oauth.TokenStore = (*Store)(nil)

// CreateToken implements oauth.TokenStore.
func (s *Store) CreateToken(ctx context.Context, r oauth.TokenRecord) error {
	return s.write(ctx, func(q querier) error {
		_, err := s.execHot(ctx, q, &s.whot.tokenInsert, string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active, r.Request,
			ms(r.ExpiresAt), ms(s.now()))
		if err != nil {
			return fmt.Errorf("create %s token: %w", r.Kind, mapErr(err, "token"))
		}
		return nil
	})
}

// Token implements oauth.TokenStore.
func (s *Store) Token(ctx context.Context, kind oauth.TokenKind, signature string) (oauth.TokenRecord, error) {
	r := oauth.TokenRecord{Kind: kind, Signature: signature}
	var expires, created int64
	rows, err := s.queryHot(ctx, &s.hot.token, string(kind), signature)
	if err == nil {
		defer rows.Close()
		switch {
		case rows.Next():
			err = rows.Scan(&r.RequestID, &r.ClientID, &r.Subject, &r.Active, &r.Request, &expires, &created)
		case rows.Err() != nil:
			err = rows.Err()
		default:
			err = sql.ErrNoRows
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s token: %w", kind, mapErr(err, "token"))
	}
	r.ExpiresAt, r.CreatedAt = fromMS(expires), fromMS(created)
	return r, nil
}

// DeleteToken implements oauth.TokenStore.
func (s *Store) DeleteToken(ctx context.Context, kind oauth.TokenKind, signature string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM oauth_tokens WHERE kind = ? AND signature = ?`, string(kind), signature)
		if err != nil {
			return fmt.Errorf("delete %s token: %w", kind, mapErr(err, "token"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete %s token: %w", kind, mandates.ErrNotFound)
		}
		return nil
	})
}

// DeactivateToken implements oauth.TokenStore.
func (s *Store) DeactivateToken(ctx context.Context, kind oauth.TokenKind, signature string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE oauth_tokens SET active = 0 WHERE kind = ? AND signature = ? AND active = 1`, string(kind), signature)
		if err != nil {
			return fmt.Errorf("deactivate %s token: %w", kind, mapErr(err, "token"))
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		err = q.QueryRowContext(ctx, `SELECT 1 FROM oauth_tokens WHERE kind = ? AND signature = ?`, string(kind), signature).Scan(&one)
		if err := mapErr(err, "token"); err != nil {
			return fmt.Errorf("deactivate %s token: %w", kind, err)
		}
		return fmt.Errorf("deactivate %s token: already inactive: %w", kind, mandates.ErrConflict)
	})
}

// DeactivateGrant implements oauth.TokenStore.
func (s *Store) DeactivateGrant(ctx context.Context, kind oauth.TokenKind, requestID string) (int64, error) {
	var n int64
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE oauth_tokens SET active = 0 WHERE request_id = ? AND kind = ? AND active = 1`, requestID, string(kind))
		if err != nil {
			return fmt.Errorf("deactivate %s tokens of a grant: %w", kind, mapErr(err, "token"))
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// UseJTI implements oauth.TokenStore: an expired record of the same id is
// replaced, a live one is a replay.
func (s *Store) UseJTI(ctx context.Context, jti string, expiresAt, now time.Time) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO oauth_jtis (jti, expires_at) VALUES (?, ?)
			ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE oauth_jtis.expires_at <= ?`, jti, ms(expiresAt), ms(now))
		if err != nil {
			return fmt.Errorf("use jti: %w", mapErr(err, "jti"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("use jti: %w", &mandates.UniqueError{Entity: "jti", Field: "jti"})
		}
		return nil
	})
}
