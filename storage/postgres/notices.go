package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

var _ notices.Store = (*Store)(nil)

const noticeColumns = `id::text, person_id::text, recipient_id::text, recipient_kind, kind, channel, lang, data::text, status,
	attempts, next_attempt_at, lease_owner, lease_until, last_error, sent_at, handed_over_at, coalesce(fallback_of::text, ''),
	created_at, version`

func scanNotice(row interface{ Scan(...any) error }) (notices.Notice, error) {
	var n notices.Notice
	var data string
	var lease, sent, handed *time.Time
	err := row.Scan(&n.ID, &n.PersonID, &n.RecipientID, &n.RecipientKind, &n.Kind, &n.Channel, &n.Lang, &data, &n.Status,
		&n.Attempts, &n.NextAttemptAt, &n.LeaseOwner, &lease, &n.LastError, &sent, &handed, &n.FallbackOf, &n.CreatedAt, &n.Version)
	if err != nil {
		return n, mapErr(err, "notice")
	}
	if err := json.Unmarshal([]byte(data), &n.Data); err != nil {
		return n, fmt.Errorf("notice %s: stored data: %w", n.ID, err)
	}
	n.NextAttemptAt, n.CreatedAt = n.NextAttemptAt.UTC(), n.CreatedAt.UTC()
	for _, t := range []struct {
		from *time.Time
		to   *time.Time
	}{{lease, &n.LeaseUntil}, {sent, &n.SentAt}, {handed, &n.HandedOverAt}} {
		if t.from != nil {
			*t.to = t.from.UTC()
		}
	}
	return n, nil
}

func noticeData(d map[string]string) string {
	if d == nil {
		d = map[string]string{}
	}
	b, _ := json.Marshal(d) // a map of strings always marshals
	return string(b)
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
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO notices (id, person_id, recipient_id, recipient_kind, kind, channel, lang, data,
		status, attempts, next_attempt_at, last_error, fallback_of, created_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)`,
		n.ID, n.PersonID, n.RecipientID, string(n.RecipientKind), string(n.Kind), string(n.Channel), n.Lang, noticeData(n.Data),
		string(n.Status), n.Attempts, n.NextAttemptAt.UTC(), n.LastError, nullID(n.FallbackOf), n.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("create notice %s: %w", n.ID, mapErr(err, "notice"))
	}
	return nil
}

func notice(ctx context.Context, q querier, id string) (notices.Notice, error) {
	if !mandates.IsID(id) {
		return notices.Notice{}, fmt.Errorf("notice %q: %w", id, mandates.ErrNotFound)
	}
	n, err := scanNotice(q.QueryRow(ctx, `SELECT `+noticeColumns+` FROM notices WHERE id = $1`, id))
	if err != nil {
		return n, fmt.Errorf("notice %s: %w", id, err)
	}
	return n, nil
}

// Notice implements notices.Store.
func (s *Store) Notice(ctx context.Context, id string) (notices.Notice, error) {
	return notice(ctx, s.q(ctx), id)
}

func (s *Store) notices(ctx context.Context, what, query string, args ...any) ([]notices.Notice, error) {
	rows, err := s.q(ctx).Query(ctx, query, args...)
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

// Claim implements notices.Store. It reads up to four times limit due
// candidates, then tries them in a random order, each with its own
// UPDATE … WHERE id AND version: dispatchers that read the same
// candidates mostly try different ones first, and a lost race (or a
// serialization failure, which distributed engines report instead) skips
// the candidate.
func (s *Store) Claim(ctx context.Context, owner string, channels []notices.Channel, now time.Time, lease time.Duration, limit int) ([]notices.Notice, error) {
	if err := notices.CheckClaim(owner, lease, limit); err != nil {
		return nil, err
	}
	chans := notices.Electronic(channels)
	if len(chans) == 0 {
		return nil, nil
	}
	now = now.UTC()
	cands, err := s.notices(ctx, "claim notices", `SELECT `+noticeColumns+` FROM notices
		WHERE status = 'pending' AND channel = ANY ($1) AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
		ORDER BY next_attempt_at, id LIMIT $3`, chans, now, 4*limit)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	until := now.Add(lease).Truncate(time.Millisecond)
	var out []notices.Notice
	for _, c := range cands {
		if len(out) == limit {
			break
		}
		tag, err := s.q(ctx).Exec(ctx, `UPDATE notices SET lease_owner = $1, lease_until = $2, version = version + 1
			WHERE id = $3 AND version = $4 AND status = 'pending'`, owner, until, c.ID, c.Version)
		if err != nil {
			if err := mapErr(err, "notice"); retryable(err) {
				continue
			}
			return out, fmt.Errorf("claim notice %s: %w", c.ID, mapErr(err, "notice"))
		}
		if tag.RowsAffected() != 1 {
			continue // another dispatcher took it
		}
		c.LeaseOwner, c.LeaseUntil, c.Version = owner, until, c.Version+1
		out = append(out, c)
	}
	return out, nil
}

// Record implements notices.Store. The write is fenced by the version and
// the owner read: a dispatcher whose lease another took cannot overwrite.
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
		tag, err := q.Exec(ctx, `UPDATE notices SET status = $1, attempts = $2, next_attempt_at = $3, lease_owner = '',
			lease_until = NULL, last_error = $4, sent_at = $5, version = $6
			WHERE id = $7 AND version = $8 AND lease_owner = $9`,
			string(n.Status), n.Attempts, n.NextAttemptAt.UTC(), n.LastError, nullTime(n.SentAt), n.Version, n.ID, old.Version, old.LeaseOwner)
		if err != nil {
			return fmt.Errorf("record notice %s: %w", n.ID, mapErr(err, "notice"))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("record notice %s: %w", n.ID, notices.ErrLeaseLost)
		}
		out = n
		return nil
	})
	return out, err
}

// NoticesOf implements notices.Store.
func (s *Store) NoticesOf(ctx context.Context, personID string, limit int) ([]notices.Notice, error) {
	if !mandates.IsID(personID) || limit <= 0 {
		return nil, nil
	}
	return s.notices(ctx, "notices of "+personID, `SELECT `+noticeColumns+` FROM notices WHERE person_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, personID, limit)
}

// ToPrint implements notices.Store.
func (s *Store) ToPrint(ctx context.Context, limit int) ([]notices.Notice, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.notices(ctx, "notices to print", `SELECT `+noticeColumns+` FROM notices
		WHERE status = 'pending' AND channel = 'paper' ORDER BY created_at, id LIMIT $1`, limit)
}

// MarkHandedOver implements notices.Store.
func (s *Store) MarkHandedOver(ctx context.Context, ids []string, at time.Time) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		q := s.q(ctx)
		for _, id := range notices.Distinct(ids) {
			old, err := notice(ctx, q, id)
			if err != nil {
				return fmt.Errorf("hand over %w", err)
			}
			n, err := notices.ApplyHandOver(old, at)
			if err != nil {
				return fmt.Errorf("hand over notice %s: %w", id, err)
			}
			tag, err := q.Exec(ctx, `UPDATE notices SET status = $1, handed_over_at = $2, version = $3 WHERE id = $4 AND version = $5`,
				string(n.Status), n.HandedOverAt, n.Version, id, old.Version)
			if err != nil {
				return fmt.Errorf("hand over notice %s: %w", id, mapErr(err, "notice"))
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("hand over notice %s: %w", id, mandates.ErrConflict)
			}
		}
		return nil
	})
}
