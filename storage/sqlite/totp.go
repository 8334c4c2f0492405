package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

var (
	_ authn.TOTPStore         = (*Store)(nil)
	_ authn.PendingLoginStore = (*Store)(nil)
)

// TOTP implements authn.TOTPStore.
func (s *Store) TOTP(ctx context.Context, personID string) (authn.TOTPEnrolment, error) {
	e := authn.TOTPEnrolment{PersonID: personID}
	var created int64
	var confirmed sql.NullInt64
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT secret, last_step, created_at, confirmed_at FROM totp_secrets WHERE person_id = ?`,
		personID).Scan(&e.Secret, &e.LastStep, &created, &confirmed)
	if err != nil {
		return e, fmt.Errorf("second factor: %w", mapErr(err, "totp"))
	}
	e.CreatedAt = fromMS(created)
	if confirmed.Valid {
		e.ConfirmedAt = fromMS(confirmed.Int64)
	}
	return e, nil
}

// StartTOTP implements authn.TOTPStore: one statement, which replaces an
// unconfirmed enrolment and leaves a confirmed one alone.
func (s *Store) StartTOTP(ctx context.Context, e authn.TOTPEnrolment) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO totp_secrets (person_id, secret, last_step, created_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (person_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
			WHERE totp_secrets.confirmed_at IS NULL`, e.PersonID, e.Secret, ms(e.CreatedAt))
		if err != nil {
			return fmt.Errorf("start second factor: %w", mapErr(err, "totp"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("start second factor: %w", authn.ErrTOTPActive)
		}
		return nil
	})
}

// ConfirmTOTP implements authn.TOTPStore.
func (s *Store) ConfirmTOTP(ctx context.Context, personID string, secret []byte, step int64, at time.Time, recovery [][]byte) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE totp_secrets SET confirmed_at = ?, last_step = ?
			WHERE person_id = ? AND secret = ? AND confirmed_at IS NULL AND last_step < ?`, ms(at), step, personID, secret, step)
		if err != nil {
			return fmt.Errorf("confirm second factor: %w", mapErr(err, "totp"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("confirm second factor: %w", mandates.ErrNotFound)
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE person_id = ?`, personID); err != nil {
			return fmt.Errorf("replace recovery codes: %w", mapErr(err, "recovery code"))
		}
		for _, h := range recovery {
			if _, err := q.ExecContext(ctx, `INSERT INTO totp_recovery_codes (person_id, hash) VALUES (?, ?)`, personID, h); err != nil {
				return fmt.Errorf("save recovery code: %w", mapErr(err, "recovery code"))
			}
		}
		return nil
	})
}

// AcceptTOTPStep implements authn.TOTPStore: the condition on last_step
// is in the UPDATE, so the single writer applies one of two equal steps.
func (s *Store) AcceptTOTPStep(ctx context.Context, personID string, step int64) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE totp_secrets SET last_step = ?
			WHERE person_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`, step, personID, step)
		if err != nil {
			return fmt.Errorf("accept code: %w", mapErr(err, "totp"))
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		var one int
		err = q.QueryRowContext(ctx, `SELECT 1 FROM totp_secrets WHERE person_id = ? AND confirmed_at IS NOT NULL`, personID).Scan(&one)
		if err := mapErr(err, "totp"); err != nil {
			return fmt.Errorf("accept code: %w", err)
		}
		return fmt.Errorf("accept code: %w", authn.ErrCodeUsed)
	})
}

// UseRecoveryCode implements authn.TOTPStore.
func (s *Store) UseRecoveryCode(ctx context.Context, personID string, hash []byte, at time.Time) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE totp_recovery_codes SET used_at = ? WHERE person_id = ? AND hash = ? AND used_at IS NULL`,
			ms(at), personID, hash)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", mapErr(err, "recovery code"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("use recovery code: %w", mandates.ErrNotFound)
		}
		return nil
	})
}

// RecoveryCodesLeft implements authn.TOTPStore.
func (s *Store) RecoveryCodesLeft(ctx context.Context, personID string) (int, error) {
	var n int
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM totp_recovery_codes WHERE person_id = ? AND used_at IS NULL`,
		personID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", mapErr(err, "recovery code"))
	}
	return n, nil
}

// DeleteTOTP implements authn.TOTPStore; the recovery codes go with it
// (ON DELETE CASCADE).
func (s *Store) DeleteTOTP(ctx context.Context, personID string) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM totp_secrets WHERE person_id = ?`, personID); err != nil {
			return fmt.Errorf("delete second factor: %w", mapErr(err, "totp"))
		}
		return nil
	})
}

// CreatePendingLogin implements authn.PendingLoginStore.
func (s *Store) CreatePendingLogin(ctx context.Context, p authn.PendingLogin) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO pending_logins (id, person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.PersonID, ms(p.AuthTime), jsonList(p.AMR), ms(p.CreatedAt), ms(p.ExpiresAt),
			p.ACR, p.Upstream, p.UpstreamIDToken)
		if err != nil {
			return fmt.Errorf("create pending login: %w", mapErr(err, "pending login"))
		}
		return nil
	})
}

const pendingColumns = `person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token`

func scanPending(row *sql.Row, id string) (authn.PendingLogin, error) {
	p := authn.PendingLogin{ID: id}
	var authTime, created, expires int64
	var amr string
	if err := row.Scan(&p.PersonID, &authTime, &amr, &created, &expires, &p.ACR, &p.Upstream, &p.UpstreamIDToken); err != nil {
		return p, mapErr(err, "pending login")
	}
	if err := json.Unmarshal([]byte(amr), &p.AMR); err != nil {
		return p, fmt.Errorf("stored amr %q: %w", amr, err)
	}
	p.AuthTime, p.CreatedAt, p.ExpiresAt = fromMS(authTime), fromMS(created), fromMS(expires)
	return p, nil
}

// PendingLogin implements authn.PendingLoginStore.
func (s *Store) PendingLogin(ctx context.Context, id string, now time.Time) (authn.PendingLogin, error) {
	p, err := scanPending(s.reader(ctx).QueryRowContext(ctx, `SELECT `+pendingColumns+` FROM pending_logins
		WHERE id = ? AND expires_at > ?`, id, ms(now)), id)
	if err != nil {
		return p, fmt.Errorf("pending login: %w", err)
	}
	return p, nil
}

// TakePendingLogin implements authn.PendingLoginStore.
func (s *Store) TakePendingLogin(ctx context.Context, id string, now time.Time) (authn.PendingLogin, error) {
	var p authn.PendingLogin
	err := s.write(ctx, func(q querier) error {
		var err error
		p, err = scanPending(q.QueryRowContext(ctx, `DELETE FROM pending_logins WHERE id = ? AND expires_at > ?
			RETURNING `+pendingColumns, id, ms(now)), id)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("take pending login: %w", err)
	}
	return p, nil
}
