package sqlite

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
// else is skipped by the insert rather than failing it, so the caller's
// transaction stays usable to try another.
func (s *Store) SetLoginName(ctx context.Context, personID, name string) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM login_names WHERE person_id = ?`, personID); err != nil {
			return fmt.Errorf("set login name: %w", mapErr(err, "person"))
		}
		res, err := q.ExecContext(ctx, `INSERT INTO login_names (person_id, login_name, created_at) VALUES (?, ?, ?)
			ON CONFLICT (login_name) DO NOTHING`, personID, name, ms(time.Now()))
		if err != nil {
			return fmt.Errorf("set login name: %w", mapErr(err, "person"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &mandates.UniqueError{Entity: "person", Field: "login_name"}
		}
		return nil
	})
}

// LoginName implements authn.LoginNameStore.
func (s *Store) LoginName(ctx context.Context, personID string) (string, error) {
	var name string
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT login_name FROM login_names WHERE person_id = ?`, personID).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("login name: %w", mapErr(err, "person"))
	}
	return name, nil
}

// PersonIDByLoginName implements authn.LoginNameStore.
func (s *Store) PersonIDByLoginName(ctx context.Context, name string) (string, error) {
	var id string
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT person_id FROM login_names WHERE login_name = ?`, name).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("person by login name: %w", mapErr(err, "person"))
	}
	return id, nil
}

// ListPersons implements mandates.PersonLister: the names are compared in
// the folded form the pivot key holds them in.
func (s *Store) ListPersons(ctx context.Context, name, after string, limit int) ([]mandates.Person, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+personColumns+` FROM persons
		WHERE id > ? AND replace(coalesce(pivot_key, ''), '|', ' ') LIKE ? ORDER BY id LIMIT ?`, after, "%"+name+"%", limit)
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
