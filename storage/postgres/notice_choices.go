package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices/prefs"
)

var _ prefs.Store = (*Store)(nil)

func noticeChoice(ctx context.Context, q querier, personID string) (prefs.Choice, error) {
	c := prefs.Choice{PersonID: personID}
	if !mandates.IsID(personID) {
		return c, fmt.Errorf("notice choice of %q: %w", personID, mandates.ErrNotFound)
	}
	var paperUntil, confirmed, expires, sendsFrom *time.Time
	err := q.QueryRow(ctx, `SELECT channel, email, phone, paper_until, confirmed_at, chosen_by, chosen_under, chosen_organisation, pending_channel, pending_to, pending_code_hash,
		pending_expires_at, pending_attempts, sends, sends_from, updated_at, version FROM notice_choices WHERE person_id = $1`, personID).
		Scan(&c.Channel, &c.Email, &c.Phone, &paperUntil, &confirmed, &c.ChosenBy, &c.ChosenUnder, &c.ChosenOrganisation, &c.Pending.Channel, &c.Pending.To, &c.Pending.CodeHash, &expires,
			&c.Pending.Attempts, &c.Sends, &sendsFrom, &c.UpdatedAt, &c.Version)
	if err != nil {
		return c, fmt.Errorf("notice choice of %s: %w", personID, mapErr(err, "notice choice"))
	}
	for _, t := range []struct {
		from *time.Time
		to   *time.Time
	}{{paperUntil, &c.PaperUntil}, {confirmed, &c.ConfirmedAt}, {expires, &c.Pending.ExpiresAt}, {sendsFrom, &c.SendsFrom}} {
		if t.from != nil {
			*t.to = t.from.UTC()
		}
	}
	c.UpdatedAt = c.UpdatedAt.UTC()
	return c, nil
}

// NoticeChoice implements prefs.Store.
func (s *Store) NoticeChoice(ctx context.Context, personID string) (prefs.Choice, error) {
	return noticeChoice(ctx, s.q(ctx), personID)
}

// UpdateNoticeChoice implements prefs.Store: read, apply, then INSERT the
// first choice or UPDATE … WHERE version = the one read.
func (s *Store) UpdateNoticeChoice(ctx context.Context, personID string, fn func(*prefs.Choice) error) (prefs.Choice, error) {
	var out prefs.Choice
	err := s.write(ctx, func(q querier) error {
		old, err := noticeChoice(ctx, q, personID)
		if errors.Is(err, mandates.ErrNotFound) && mandates.IsID(personID) {
			var one int
			if err := q.QueryRow(ctx, `SELECT 1 FROM persons WHERE id = $1`, personID).Scan(&one); err != nil {
				return fmt.Errorf("notice choice of person %s: %w", personID, mapErr(err, "person"))
			}
			old, err = prefs.Paper(personID), nil
		}
		if err != nil {
			return err
		}
		c, err := prefs.ApplyUpdate(old, fn, s.now())
		if err != nil {
			return fmt.Errorf("notice choice of %s: %w", personID, err)
		}
		args := []any{string(c.Channel), c.Email, c.Phone, nullTime(c.PaperUntil), string(c.Pending.Channel), c.Pending.To,
			c.Pending.CodeHash, nullTime(c.Pending.ExpiresAt), c.Pending.Attempts, c.Sends, nullTime(c.SendsFrom), c.UpdatedAt.UTC(),
			c.Version, c.ChosenBy, c.ChosenUnder, c.ChosenOrganisation, nullTime(c.ConfirmedAt), personID}
		var tag pgconn.CommandTag
		if old.Version == 0 {
			tag, err = q.Exec(ctx, `INSERT INTO notice_choices (channel, email, phone, paper_until, pending_channel, pending_to,
				pending_code_hash, pending_expires_at, pending_attempts, sends, sends_from, updated_at, version, chosen_by, chosen_under, chosen_organisation, confirmed_at, person_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`, args...)
		} else {
			tag, err = q.Exec(ctx, `UPDATE notice_choices SET channel = $1, email = $2, phone = $3, paper_until = $4,
				pending_channel = $5, pending_to = $6, pending_code_hash = $7, pending_expires_at = $8, pending_attempts = $9,
				sends = $10, sends_from = $11, updated_at = $12, version = $13, chosen_by = $14, chosen_under = $15,
				chosen_organisation = $16, confirmed_at = $17 WHERE person_id = $18 AND version = $19`,
				append(args, old.Version)...)
		}
		var unique *mandates.UniqueError
		if err = mapErr(err, "notice choice"); errors.As(err, &unique) {
			err = mandates.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("notice choice of %s: %w", personID, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("notice choice of %s: %w", personID, mandates.ErrConflict)
		}
		out = c
		return nil
	})
	return out, err
}
