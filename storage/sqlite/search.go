package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/relais-fr/relais/authz/oauth"
)

var _ oauth.SubjectLister = (*Store)(nil)

// issuedChunk bounds the subjects one statement asks about, far below
// SQLite's limit on bound parameters.
const issuedChunk = 500

// IssuedSubjects implements oauth.SubjectLister: the primary key
// (sector, subject) answers each chunk.
func (s *Store) IssuedSubjects(ctx context.Context, sector string, subjects []string) (map[string]string, error) {
	out := make(map[string]string, len(subjects))
	for len(subjects) > 0 {
		n := min(len(subjects), issuedChunk)
		chunk := subjects[:n]
		subjects = subjects[n:]
		args := make([]any, 0, n+1)
		args = append(args, sector)
		for _, sub := range chunk {
			args = append(args, sub)
		}
		rows, err := s.reader(ctx).QueryContext(ctx, `SELECT subject, person_id FROM pairwise_subjects
			WHERE sector = ? AND subject IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("issued subjects: %w", mapErr(err, "subject"))
		}
		for rows.Next() {
			var sub, id string
			if err := rows.Scan(&sub, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("issued subjects: %w", mapErr(err, "subject"))
			}
			out[sub] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("issued subjects: %w", mapErr(err, "subject"))
		}
	}
	return out, nil
}
