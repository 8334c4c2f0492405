package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	if !mandates.IsID(personID) {
		return e, fmt.Errorf("second factor: %w", mandates.ErrNotFound)
	}
	var confirmed *time.Time
	err := s.q(ctx).QueryRow(ctx, `SELECT secret, last_step, created_at, confirmed_at FROM totp_secrets WHERE person_id = $1`,
		personID).Scan(&e.Secret, &e.LastStep, &e.CreatedAt, &confirmed)
	if err != nil {
		return e, fmt.Errorf("second factor: %w", mapErr(err, "totp"))
	}
	e.CreatedAt = e.CreatedAt.UTC()
	if confirmed != nil {
		e.ConfirmedAt = confirmed.UTC()
	}
	return e, nil
}

// StartTOTP implements authn.TOTPStore: one statement, which replaces an
// unconfirmed enrolment and leaves a confirmed one alone.
func (s *Store) StartTOTP(ctx context.Context, e authn.TOTPEnrolment) error {
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `INSERT INTO totp_secrets (person_id, secret, last_step, created_at) VALUES ($1, $2, 0, $3)
			ON CONFLICT (person_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
			WHERE totp_secrets.confirmed_at IS NULL`, e.PersonID, e.Secret, e.CreatedAt.UTC())
		if err != nil {
			return fmt.Errorf("start second factor: %w", mapErr(err, "totp"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("start second factor: %w", authn.ErrTOTPActive)
		}
		return nil
	})
}

// ConfirmTOTP implements authn.TOTPStore.
func (s *Store) ConfirmTOTP(ctx context.Context, personID string, secret []byte, step int64, at time.Time, recovery [][]byte) error {
	if !mandates.IsID(personID) {
		return fmt.Errorf("confirm second factor: %w", mandates.ErrNotFound)
	}
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE totp_secrets SET confirmed_at = $1, last_step = $2
			WHERE person_id = $3 AND secret = $4 AND confirmed_at IS NULL AND last_step < $2`, at.UTC(), step, personID, secret)
		if err != nil {
			return fmt.Errorf("confirm second factor: %w", mapErr(err, "totp"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("confirm second factor: %w", mandates.ErrNotFound)
		}
		if _, err := q.Exec(ctx, `DELETE FROM totp_recovery_codes WHERE person_id = $1`, personID); err != nil {
			return fmt.Errorf("replace recovery codes: %w", mapErr(err, "recovery code"))
		}
		if _, err := q.Exec(ctx, `INSERT INTO totp_recovery_codes (person_id, hash) SELECT $1, unnest($2::bytea[])`,
			personID, recovery); err != nil {
			return fmt.Errorf("save recovery codes: %w", mapErr(err, "recovery code"))
		}
		return nil
	})
}

// AcceptTOTPStep implements authn.TOTPStore: under READ COMMITTED, a
// second UPDATE of the row waits for the first and then re-checks
// last_step against the committed value, so one of two equal steps wins.
func (s *Store) AcceptTOTPStep(ctx context.Context, personID string, step int64) error {
	if !mandates.IsID(personID) {
		return fmt.Errorf("accept code: %w", mandates.ErrNotFound)
	}
	var accepted bool
	err := s.q(ctx).QueryRow(ctx, `WITH moved AS (
			UPDATE totp_secrets SET last_step = $2
			WHERE person_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2 RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM moved) FROM totp_secrets WHERE person_id = $1 AND confirmed_at IS NOT NULL`,
		personID, step).Scan(&accepted)
	if err != nil {
		return fmt.Errorf("accept code: %w", mapErr(err, "totp"))
	}
	if !accepted {
		return fmt.Errorf("accept code: %w", authn.ErrCodeUsed)
	}
	return nil
}

// UseRecoveryCode implements authn.TOTPStore.
func (s *Store) UseRecoveryCode(ctx context.Context, personID string, hash []byte, at time.Time) error {
	if !mandates.IsID(personID) {
		return fmt.Errorf("use recovery code: %w", mandates.ErrNotFound)
	}
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE totp_recovery_codes SET used_at = $1 WHERE person_id = $2 AND hash = $3 AND used_at IS NULL`,
			at.UTC(), personID, hash)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", mapErr(err, "recovery code"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("use recovery code: %w", mandates.ErrNotFound)
		}
		return nil
	})
}

// RecoveryCodesLeft implements authn.TOTPStore.
func (s *Store) RecoveryCodesLeft(ctx context.Context, personID string) (int, error) {
	if !mandates.IsID(personID) {
		return 0, nil
	}
	var n int
	err := s.q(ctx).QueryRow(ctx, `SELECT count(*) FROM totp_recovery_codes WHERE person_id = $1 AND used_at IS NULL`,
		personID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", mapErr(err, "recovery code"))
	}
	return n, nil
}

// DeleteTOTP implements authn.TOTPStore; the recovery codes go with it
// (ON DELETE CASCADE).
func (s *Store) DeleteTOTP(ctx context.Context, personID string) error {
	if !mandates.IsID(personID) {
		return nil
	}
	return s.write(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM totp_secrets WHERE person_id = $1`, personID); err != nil {
			return fmt.Errorf("delete second factor: %w", mapErr(err, "totp"))
		}
		return nil
	})
}

// CreatePendingLogin implements authn.PendingLoginStore.
func (s *Store) CreatePendingLogin(ctx context.Context, p authn.PendingLogin) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO pending_logins (id, person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.ID, p.PersonID, p.AuthTime.UTC(), list(p.AMR), p.CreatedAt.UTC(), p.ExpiresAt.UTC(),
			p.ACR, p.Upstream, p.UpstreamIDToken)
		if err != nil {
			return fmt.Errorf("create pending login: %w", mapErr(err, "pending login"))
		}
		return nil
	})
}

const pendingColumns = `person_id::text, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token`

func scanPending(row pgx.Row, id string) (authn.PendingLogin, error) {
	p := authn.PendingLogin{ID: id}
	if err := row.Scan(&p.PersonID, &p.AuthTime, &p.AMR, &p.CreatedAt, &p.ExpiresAt, &p.ACR, &p.Upstream, &p.UpstreamIDToken); err != nil {
		return p, mapErr(err, "pending login")
	}
	p.AuthTime, p.CreatedAt, p.ExpiresAt = p.AuthTime.UTC(), p.CreatedAt.UTC(), p.ExpiresAt.UTC()
	return p, nil
}

// PendingLogin implements authn.PendingLoginStore.
func (s *Store) PendingLogin(ctx context.Context, id string, now time.Time) (authn.PendingLogin, error) {
	p, err := scanPending(s.q(ctx).QueryRow(ctx, `SELECT `+pendingColumns+` FROM pending_logins
		WHERE id = $1 AND expires_at > $2`, id, now.UTC()), id)
	if err != nil {
		return p, fmt.Errorf("pending login: %w", err)
	}
	return p, nil
}

// TakePendingLogin implements authn.PendingLoginStore: a DELETE that
// returns the row, so of two concurrent takes only one sees it.
func (s *Store) TakePendingLogin(ctx context.Context, id string, now time.Time) (authn.PendingLogin, error) {
	var p authn.PendingLogin
	err := s.write(ctx, func(q querier) error {
		var err error
		p, err = scanPending(q.QueryRow(ctx, `DELETE FROM pending_logins WHERE id = $1 AND expires_at > $2
			RETURNING `+pendingColumns, id, now.UTC()), id)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("take pending login: %w", err)
	}
	return p, nil
}
