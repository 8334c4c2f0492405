package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

var (
	_ authn.LoginNameStore  = (*Store)(nil)
	_ mandates.PersonLister = (*Store)(nil)
)

// SetLoginName implements authn.LoginNameStore. A name taken by someone
// else is skipped by the insert rather than failing it: a failed statement
// would abort the caller's transaction, which may try another name.
func (s *Store) SetLoginName(ctx context.Context, personID, name string) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM login_names WHERE person_id = $1`, personID); err != nil {
			return fmt.Errorf("set login name: %w", mapErr(err, "person"))
		}
		tag, err := q.Exec(ctx, `INSERT INTO login_names (person_id, login_name, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (login_name) DO NOTHING`, personID, name, time.Now().UTC())
		if err != nil {
			return fmt.Errorf("set login name: %w", mapErr(err, "person"))
		}
		if tag.RowsAffected() == 0 {
			return &mandates.UniqueError{Entity: "person", Field: "login_name"}
		}
		return nil
	})
}

// LoginName implements authn.LoginNameStore.
func (s *Store) LoginName(ctx context.Context, personID string) (string, error) {
	if !mandates.IsID(personID) {
		return "", fmt.Errorf("login name: %w", mandates.ErrNotFound)
	}
	var name string
	err := s.q(ctx).QueryRow(ctx, `SELECT login_name FROM login_names WHERE person_id = $1`, personID).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("login name: %w", mapErr(err, "person"))
	}
	return name, nil
}

// PersonIDByLoginName implements authn.LoginNameStore.
func (s *Store) PersonIDByLoginName(ctx context.Context, name string) (string, error) {
	var id string
	err := s.q(ctx).QueryRow(ctx, `SELECT person_id::text FROM login_names WHERE login_name = $1`, name).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("person by login name: %w", mapErr(err, "person"))
	}
	return id, nil
}

// ListPersons implements mandates.PersonLister: the names are compared in
// the folded form the pivot key holds them in.
func (s *Store) ListPersons(ctx context.Context, name, after string, limit int) ([]mandates.Person, error) {
	if after == "" {
		after = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+personColumns+` FROM persons
		WHERE id > $1::uuid AND replace(coalesce(pivot_key, ''), '|', ' ') LIKE $2 ORDER BY id LIMIT $3`, after, "%"+name+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("list persons: %w", mapErr(err, "person"))
	}
	defer rows.Close()
	var out []mandates.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("list persons: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list persons: %w", mapErr(err, "person"))
	}
	return out, nil
}
