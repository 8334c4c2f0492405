package postgres

import (
	"context"
	"fmt"

	"github.com/relais-fr/relais/authz/oauth"
)

var _ oauth.SubjectLister = (*Store)(nil)

// IssuedSubjects implements oauth.SubjectLister in one query: the primary
// key (sector, subject) answers it.
func (s *Store) IssuedSubjects(ctx context.Context, sector string, subjects []string) (map[string]string, error) {
	out := make(map[string]string, len(subjects))
	if len(subjects) == 0 {
		return out, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT subject, person_id::text FROM pairwise_subjects
		WHERE sector = $1 AND subject = ANY($2::text[])`, sector, subjects)
	if err != nil {
		return nil, fmt.Errorf("issued subjects: %w", mapErr(err, "subject"))
	}
	defer rows.Close()
	for rows.Next() {
		var sub, id string
		if err := rows.Scan(&sub, &id); err != nil {
			return nil, fmt.Errorf("issued subjects: %w", mapErr(err, "subject"))
		}
		out[sub] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("issued subjects: %w", mapErr(err, "subject"))
	}
	return out, nil
}
