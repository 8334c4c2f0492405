package postgres

import (
	"context"
	"fmt"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

var _ oauth.SubjectStore = (*Store)(nil)

// SaveSubject implements oauth.SubjectStore. The sub is an HMAC of the
// sector and the person: a second save of the same pair changes nothing.
func (s *Store) SaveSubject(ctx context.Context, sector, subject, personID string) error {
	if sector == "" || subject == "" || !mandates.IsID(personID) {
		return &mandates.InvalidError{Field: "subject", Rule: mandates.RuleRequired}
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO pairwise_subjects (sector, subject, person_id) VALUES ($1, $2, $3)
		ON CONFLICT (sector, subject) DO NOTHING`, sector, subject, personID)
	if err != nil {
		return fmt.Errorf("save subject: %w", mapErr(err, "subject"))
	}
	return nil
}

// SubjectPerson implements oauth.SubjectStore.
func (s *Store) SubjectPerson(ctx context.Context, sector, subject string) (string, error) {
	var id string
	err := s.q(ctx).QueryRow(ctx, `SELECT person_id::text FROM pairwise_subjects WHERE sector = $1 AND subject = $2`,
		sector, subject).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("subject: %w", mapErr(err, "subject"))
	}
	return id, nil
}

// SubjectPersons implements oauth.SubjectStore: both subjects of an
// evaluation in one query.
func (s *Store) SubjectPersons(ctx context.Context, sector, subject, other string) (map[string]string, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT subject, person_id::text FROM pairwise_subjects
		WHERE sector = $1 AND subject IN ($2, $3)`, sector, subject, other)
	if err != nil {
		return nil, fmt.Errorf("subjects: %w", mapErr(err, "subject"))
	}
	defer rows.Close()
	out := make(map[string]string, 2)
	for rows.Next() {
		var sub, id string
		if err := rows.Scan(&sub, &id); err != nil {
			return nil, fmt.Errorf("subjects: %w", mapErr(err, "subject"))
		}
		out[sub] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("subjects: %w", mapErr(err, "subject"))
	}
	return out, nil
}
