package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

var _ notices.Store = (*Store)(nil)

const noticeColumns = `id, person_id, recipient_id, recipient_kind, kind, channel, lang, data, status, attempts,
	next_attempt_at, lease_owner, lease_until, last_error, sent_at, handed_over_at, coalesce(fallback_of, ''), created_at, version`

func scanNotice(row interface{ Scan(...any) error }) (notices.Notice, error) {
	var n notices.Notice
	var data string
	var next, created int64
	var lease, sent, handed sql.NullInt64
	err := row.Scan(&n.ID, &n.PersonID, &n.RecipientID, &n.RecipientKind, &n.Kind, &n.Channel, &n.Lang, &data, &n.Status,
		&n.Attempts, &next, &n.LeaseOwner, &lease, &n.LastError, &sent, &handed, &n.FallbackOf, &created, &n.Version)
	if err != nil {
		return n, mapErr(err, "notice")
	}
	if err := json.Unmarshal([]byte(data), &n.Data); err != nil {
		return n, fmt.Errorf("notice %s: stored data: %w", n.ID, err)
	}
	n.NextAttemptAt, n.CreatedAt = fromMS(next), fromMS(created)
	n.LeaseUntil, n.SentAt, n.HandedOverAt = fromNullMS(lease), fromNullMS(sent), fromNullMS(handed)
	return n, nil
}

func noticeData(d map[string]string) string {
	if d == nil {
		d = map[string]string{}
	}
	b, _ := json.Marshal(d) // a map of strings always marshals
	return string(b)
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateNotice implements notices.Store.
func (s *Store) CreateNotice(ctx context.Context, n notices.Notice) error {
	if err := n.Validate(); err != nil {
		return err
	}
	switch {
	case n.Status != notices.Pending:
		return &mandates.InvalidError{Field: "status", Rule: mandates.RuleForbidden}
	case n.LeaseOwner != "":
		return &mandates.InvalidError{Field: "lease", Rule: mandates.RuleForbidden}
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO notices (id, person_id, recipient_id, recipient_kind, kind, channel, lang, data,
			status, attempts, next_attempt_at, last_error, fallback_of, created_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			n.ID, n.PersonID, n.RecipientID, string(n.RecipientKind), string(n.Kind), string(n.Channel), n.Lang, noticeData(n.Data),
			string(n.Status), n.Attempts, ms(n.NextAttemptAt), n.LastError, nullText(n.FallbackOf), ms(n.CreatedAt))
		if err != nil {
			return fmt.Errorf("create notice %s: %w", n.ID, mapErr(err, "notice"))
		}
		return nil
	})
}

func notice(ctx context.Context, q querier, id string) (notices.Notice, error) {
	n, err := scanNotice(q.QueryRowContext(ctx, `SELECT `+noticeColumns+` FROM notices WHERE id = ?`, id))
	if err != nil {
		return n, fmt.Errorf("notice %s: %w", id, err)
	}
	return n, nil
}

// Notice implements notices.Store.
func (s *Store) Notice(ctx context.Context, id string) (notices.Notice, error) {
	return notice(ctx, s.reader(ctx), id)
}

func (s *Store) notices(ctx context.Context, q querier, what, query string, args ...any) ([]notices.Notice, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err, "notice"))
	}
	defer rows.Close()
	var out []notices.Notice
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err, "notice"))
	}
	return out, nil
}

// Claim implements notices.Store, as the PostgreSQL store does: read the
// due candidates, then take each with UPDATE … WHERE id AND version. The
// single writer makes each update atomic; another process on the same
// file that took a candidate first makes it skip.
func (s *Store) Claim(ctx context.Context, owner string, channels []notices.Channel, now time.Time, lease time.Duration, limit int) ([]notices.Notice, error) {
	if err := notices.CheckClaim(owner, lease, limit); err != nil {
		return nil, err
	}
	chans := notices.Electronic(channels)
	if len(chans) == 0 {
		return nil, nil
	}
	args := []any{}
	for _, c := range chans {
		args = append(args, c)
	}
	args = append(args, ms(now), ms(now), 4*limit)
	cands, err := s.notices(ctx, s.reader(ctx), "claim notices", `SELECT `+noticeColumns+` FROM notices
		WHERE status = 'pending' AND channel IN (?`+strings.Repeat(", ?", len(chans)-1)+`) AND next_attempt_at <= ?
			AND (lease_until IS NULL OR lease_until <= ?)
		ORDER BY next_attempt_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	until := fromMS(ms(now.Add(lease)))
	var out []notices.Notice
	for _, c := range cands {
		if len(out) == limit {
			break
		}
		var n int64
		err := s.write(ctx, func(q querier) error {
			res, err := q.ExecContext(ctx, `UPDATE notices SET lease_owner = ?, lease_until = ?, version = version + 1
				WHERE id = ? AND version = ? AND status = 'pending'`, owner, ms(until), c.ID, c.Version)
			if err != nil {
				return fmt.Errorf("claim notice %s: %w", c.ID, mapErr(err, "notice"))
			}
			n, _ = res.RowsAffected()
			return nil
		})
		if err != nil {
			return out, err
		}
		if n != 1 {
			continue // another dispatcher took it
		}
		c.LeaseOwner, c.LeaseUntil, c.Version = owner, until, c.Version+1
		out = append(out, c)
	}
	return out, nil
}

// Record implements notices.Store: fenced by the version and owner read.
func (s *Store) Record(ctx context.Context, held notices.Notice, fn func(*notices.Notice) error) (notices.Notice, error) {
	var out notices.Notice
	err := s.write(ctx, func(q querier) error {
		old, err := notice(ctx, q, held.ID)
		if err != nil {
			return fmt.Errorf("record %w", err)
		}
		n, err := notices.ApplyRecord(old, held, fn)
		if err != nil {
			return fmt.Errorf("record notice %s: %w", held.ID, err)
		}
		res, err := q.ExecContext(ctx, `UPDATE notices SET status = ?, attempts = ?, next_attempt_at = ?, lease_owner = '',
			lease_until = NULL, last_error = ?, sent_at = ?, version = ?
			WHERE id = ? AND version = ? AND lease_owner = ?`,
			string(n.Status), n.Attempts, ms(n.NextAttemptAt), n.LastError, msOrNull(n.SentAt), n.Version, n.ID, old.Version, old.LeaseOwner)
		if err != nil {
			return fmt.Errorf("record notice %s: %w", n.ID, mapErr(err, "notice"))
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return fmt.Errorf("record notice %s: %w", n.ID, notices.ErrLeaseLost)
		}
		out = n
		return nil
	})
	return out, err
}

// NoticesOf implements notices.Store.
func (s *Store) NoticesOf(ctx context.Context, personID string, limit int) ([]notices.Notice, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.notices(ctx, s.reader(ctx), "notices of "+personID, `SELECT `+noticeColumns+` FROM notices WHERE person_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`, personID, limit)
}

// ToPrint implements notices.Store.
func (s *Store) ToPrint(ctx context.Context, limit int) ([]notices.Notice, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.notices(ctx, s.reader(ctx), "notices to print", `SELECT `+noticeColumns+` FROM notices
		WHERE status = 'pending' AND channel = 'paper' ORDER BY created_at, id LIMIT ?`, limit)
}

// MarkHandedOver implements notices.Store.
func (s *Store) MarkHandedOver(ctx context.Context, ids []string, at time.Time) error {
	return s.write(ctx, func(q querier) error {
		for _, id := range notices.Distinct(ids) {
			old, err := notice(ctx, q, id)
			if err != nil {
				return fmt.Errorf("hand over %w", err)
			}
			n, err := notices.ApplyHandOver(old, at)
			if err != nil {
				return fmt.Errorf("hand over notice %s: %w", id, err)
			}
			res, err := q.ExecContext(ctx, `UPDATE notices SET status = ?, handed_over_at = ?, version = ? WHERE id = ? AND version = ?`,
				string(n.Status), ms(n.HandedOverAt), n.Version, id, old.Version)
			if err != nil {
				return fmt.Errorf("hand over notice %s: %w", id, mapErr(err, "notice"))
			}
			if k, _ := res.RowsAffected(); k != 1 {
				return fmt.Errorf("hand over notice %s: %w", id, mandates.ErrConflict)
			}
		}
		return nil
	})
}
