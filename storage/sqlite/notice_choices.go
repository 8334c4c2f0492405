package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices/prefs"
)

var _ prefs.Store = (*Store)(nil)

func noticeChoice(ctx context.Context, q querier, personID string) (prefs.Choice, error) {
	c := prefs.Choice{PersonID: personID}
	var paperUntil, confirmed, expires, sendsFrom sql.NullInt64
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT channel, email, phone, paper_until, confirmed_at, chosen_by, chosen_under, chosen_organisation, pending_channel, pending_to, pending_code_hash,
		pending_expires_at, pending_attempts, sends, sends_from, updated_at, version FROM notice_choices WHERE person_id = ?`, personID).
		Scan(&c.Channel, &c.Email, &c.Phone, &paperUntil, &confirmed, &c.ChosenBy, &c.ChosenUnder, &c.ChosenOrganisation, &c.Pending.Channel, &c.Pending.To, &c.Pending.CodeHash, &expires,
			&c.Pending.Attempts, &c.Sends, &sendsFrom, &updated, &c.Version)
	if err != nil {
		return c, fmt.Errorf("notice choice of %s: %w", personID, mapErr(err, "notice choice"))
	}
	c.PaperUntil, c.ConfirmedAt, c.Pending.ExpiresAt, c.SendsFrom, c.UpdatedAt = fromNullMS(paperUntil), fromNullMS(confirmed), fromNullMS(expires), fromNullMS(sendsFrom), fromMS(updated)
	return c, nil
}

// NoticeChoice implements prefs.Store.
func (s *Store) NoticeChoice(ctx context.Context, personID string) (prefs.Choice, error) {
	return noticeChoice(ctx, s.reader(ctx), personID)
}

// UpdateNoticeChoice implements prefs.Store: read, apply, then INSERT the
// first choice or UPDATE … WHERE version = the one read.
func (s *Store) UpdateNoticeChoice(ctx context.Context, personID string, fn func(*prefs.Choice) error) (prefs.Choice, error) {
	var out prefs.Choice
	err := s.write(ctx, func(q querier) error {
		old, err := noticeChoice(ctx, q, personID)
		if errors.Is(err, mandates.ErrNotFound) {
			var one int
			if err := q.QueryRowContext(ctx, `SELECT 1 FROM persons WHERE id = ?`, personID).Scan(&one); err != nil {
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
		args := []any{string(c.Channel), c.Email, c.Phone, msOrNull(c.PaperUntil), string(c.Pending.Channel), c.Pending.To,
			c.Pending.CodeHash, msOrNull(c.Pending.ExpiresAt), c.Pending.Attempts, c.Sends, msOrNull(c.SendsFrom), ms(c.UpdatedAt),
			c.Version, c.ChosenBy, c.ChosenUnder, c.ChosenOrganisation, msOrNull(c.ConfirmedAt), personID}
		var res sql.Result
		if old.Version == 0 {
			res, err = q.ExecContext(ctx, `INSERT INTO notice_choices (channel, email, phone, paper_until, pending_channel, pending_to,
				pending_code_hash, pending_expires_at, pending_attempts, sends, sends_from, updated_at, version, chosen_by, chosen_under, chosen_organisation, confirmed_at, person_id)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		} else {
			res, err = q.ExecContext(ctx, `UPDATE notice_choices SET channel = ?, email = ?, phone = ?, paper_until = ?,
				pending_channel = ?, pending_to = ?, pending_code_hash = ?, pending_expires_at = ?, pending_attempts = ?, sends = ?,
				sends_from = ?, updated_at = ?, version = ?, chosen_by = ?, chosen_under = ?, chosen_organisation = ?, confirmed_at = ? WHERE person_id = ? AND version = ?`, append(args, old.Version)...)
		}
		var unique *mandates.UniqueError
		if err = mapErr(err, "notice choice"); errors.As(err, &unique) {
			err = mandates.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("notice choice of %s: %w", personID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("notice choice of %s: %w", personID, mandates.ErrConflict)
		}
		out = c
		return nil
	})
	return out, err
}
