package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

var (
	_ authn.UpstreamLoginStore = (*Store)(nil)
	_ authn.UpstreamLinkStore  = (*Store)(nil)
)

// SaveUpstreamLogin implements authn.UpstreamLoginStore.
func (s *Store) SaveUpstreamLogin(ctx context.Context, l authn.UpstreamLogin) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO upstream_logins (state_hash, provider, purpose, binding_hash, return_to, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, l.StateHash, l.Provider, l.Purpose, l.BindingHash, l.Return, ms(l.CreatedAt), ms(l.ExpiresAt))
		if err != nil {
			return fmt.Errorf("save upstream login: %w", mapErr(err, "upstream login"))
		}
		return nil
	})
}

// TakeUpstreamLogin implements authn.UpstreamLoginStore: the row is marked
// used by one UPDATE, so of two returns with one state only one wins.
func (s *Store) TakeUpstreamLogin(ctx context.Context, stateHash []byte, now time.Time) (authn.UpstreamLogin, error) {
	l := authn.UpstreamLogin{StateHash: stateHash}
	err := s.write(ctx, func(q querier) error {
		var created, expires int64
		err := q.QueryRowContext(ctx, `UPDATE upstream_logins SET used_at = ? WHERE state_hash = ? AND used_at IS NULL
			RETURNING provider, purpose, binding_hash, return_to, created_at, expires_at`, ms(now), stateHash).
			Scan(&l.Provider, &l.Purpose, &l.BindingHash, &l.Return, &created, &expires)
		if err == nil {
			l.CreatedAt, l.ExpiresAt = fromMS(created), fromMS(expires)
			return nil
		}
		if err := mapErr(err, "upstream login"); !errors.Is(err, mandates.ErrNotFound) {
			return fmt.Errorf("take upstream login: %w", err)
		}
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM upstream_logins WHERE state_hash = ?`, stateHash).Scan(&n); err != nil {
			return fmt.Errorf("take upstream login: %w", mapErr(err, "upstream login"))
		}
		if n > 0 {
			return authn.ErrUpstreamLoginUsed
		}
		return fmt.Errorf("take upstream login: %w", mandates.ErrNotFound)
	})
	return l, err
}

// UpstreamLinkOf implements authn.UpstreamLinkStore.
func (s *Store) UpstreamLinkOf(ctx context.Context, provider, subject string) (authn.UpstreamLink, error) {
	l := authn.UpstreamLink{Provider: provider, Subject: subject}
	var linked int64
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT person_id, linked_at FROM upstream_links WHERE provider = ? AND subject = ?`,
		provider, subject).Scan(&l.PersonID, &linked)
	if err != nil {
		return l, fmt.Errorf("upstream link: %w", mapErr(err, "upstream link"))
	}
	l.LinkedAt = fromMS(linked)
	return l, nil
}

// SaveUpstreamLink implements authn.UpstreamLinkStore.
func (s *Store) SaveUpstreamLink(ctx context.Context, l authn.UpstreamLink) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO upstream_links (provider, subject, person_id, linked_at) VALUES (?, ?, ?, ?)`,
			l.Provider, l.Subject, l.PersonID, ms(l.LinkedAt))
		if err != nil {
			return fmt.Errorf("save upstream link: %w", mapErr(err, "upstream link"))
		}
		return nil
	})
}

// UpstreamLinksOf implements authn.UpstreamLinkStore.
func (s *Store) UpstreamLinksOf(ctx context.Context, personID string) ([]authn.UpstreamLink, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT provider, subject, linked_at FROM upstream_links WHERE person_id = ?
		ORDER BY linked_at, provider`, personID)
	if err != nil {
		return nil, fmt.Errorf("upstream links: %w", mapErr(err, "upstream link"))
	}
	defer rows.Close()
	var out []authn.UpstreamLink
	for rows.Next() {
		l := authn.UpstreamLink{PersonID: personID}
		var linked int64
		if err := rows.Scan(&l.Provider, &l.Subject, &linked); err != nil {
			return nil, fmt.Errorf("upstream links: %w", mapErr(err, "upstream link"))
		}
		l.LinkedAt = fromMS(linked)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("upstream links: %w", mapErr(err, "upstream link"))
	}
	return out, nil
}

// DeleteUpstreamLink implements authn.UpstreamLinkStore.
func (s *Store) DeleteUpstreamLink(ctx context.Context, personID, provider string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM upstream_links WHERE person_id = ? AND provider = ?`, personID, provider)
		if err != nil {
			return fmt.Errorf("delete upstream link: %w", mapErr(err, "upstream link"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete upstream link: %w", mandates.ErrNotFound)
		}
		return nil
	})
}

var _ mandates.SIRETStore = (*Store)(nil)

// OrganisationBySIRET implements mandates.SIRETStore.
func (s *Store) OrganisationBySIRET(ctx context.Context, siret string) (mandates.Organisation, error) {
	if siret == "" {
		return mandates.Organisation{}, fmt.Errorf("organisation by SIRET: %w", mandates.ErrNotFound)
	}
	o, err := scanOrganisation(s.reader(ctx).QueryRowContext(ctx, `SELECT `+organisationColumns+` FROM organisations WHERE siret = ?`, siret))
	if err != nil {
		return o, fmt.Errorf("organisation by SIRET: %w", err)
	}
	return o, nil
}
