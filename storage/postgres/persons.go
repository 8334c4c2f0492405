package postgres

import (
	"context"
	"fmt"

	"github.com/relais-fr/relais/mandates"
)

const personColumns = `id::text, given_names, family_name, preferred_name, birth_date, birth_place_code, birth_place_label,
	birth_country, gender, email, phone, language, password_hash, created_at, updated_at, version,
	address_street, address_postal_code, address_locality, address_country`

func scanPerson(row interface{ Scan(...any) error }) (mandates.Person, error) {
	var p mandates.Person
	err := row.Scan(&p.ID, &p.GivenNames, &p.FamilyName, &p.PreferredName, &p.BirthDate, &p.BirthPlace.Code, &p.BirthPlace.Label,
		&p.BirthCountry, &p.Gender, &p.Email, &p.Phone, &p.Language, &p.PasswordHash, &p.CreatedAt, &p.UpdatedAt, &p.Version,
		&p.Address.Street, &p.Address.PostalCode, &p.Address.Locality, &p.Address.Country)
	if err != nil {
		return p, mapErr(err, "person")
	}
	p.BirthDate = mandates.Date(p.BirthDate.Date())
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// emailKey is NULL when there is no email, so persons without one do not
// collide on the unique constraint.
func emailKey(email string) *string {
	if k := mandates.EmailKey(email); k != "" {
		return &k
	}
	return nil
}

// pivotKey is NULL when the person has no pivot identity, so that such
// records match nobody.
func pivotKey(p mandates.Person) *string {
	if k := mandates.PivotKey(p); k != "" {
		return &k
	}
	return nil
}

// PersonsByPivot implements mandates.PivotStore.
func (s *Store) PersonsByPivot(ctx context.Context, key string) ([]mandates.Person, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+personColumns+` FROM persons WHERE pivot_key = $1 ORDER BY id`, key)
	if err != nil {
		return nil, fmt.Errorf("persons by pivot: %w", mapErr(err, "person"))
	}
	defer rows.Close()
	var out []mandates.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("persons by pivot: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("persons by pivot: %w", mapErr(err, "person"))
	}
	return out, nil
}

// CreatePerson implements mandates.PersonStore.
func (s *Store) CreatePerson(ctx context.Context, p mandates.Person) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := s.now().UTC()
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO persons (id, given_names, family_name, preferred_name, birth_date, birth_place_code,
			birth_place_label, birth_country, gender, email, phone, language, password_hash, created_at, updated_at, version, email_key,
			address_street, address_postal_code, address_locality, address_country, pivot_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1, $15, $16, $17, $18, $19, $20)`,
			p.ID, p.GivenNames, p.FamilyName, p.PreferredName, p.BirthDate, p.BirthPlace.Code, p.BirthPlace.Label,
			p.BirthCountry, string(p.Gender), p.Email, p.Phone, p.Language, p.PasswordHash, now, emailKey(p.Email),
			p.Address.Street, p.Address.PostalCode, p.Address.Locality, p.Address.Country, pivotKey(p))
		if err != nil {
			return fmt.Errorf("create person %s: %w", p.ID, mapErr(err, "person"))
		}
		return nil
	})
}

// Person implements mandates.PersonStore.
func (s *Store) Person(ctx context.Context, id string) (mandates.Person, error) {
	if !mandates.IsID(id) {
		return mandates.Person{}, fmt.Errorf("person %q: %w", id, mandates.ErrNotFound)
	}
	p, err := scanPerson(s.q(ctx).QueryRow(ctx, `SELECT `+personColumns+` FROM persons WHERE id = $1`, id))
	if err != nil {
		return p, fmt.Errorf("person %s: %w", id, err)
	}
	return p, nil
}

// PersonByEmail implements mandates.PersonStore.
func (s *Store) PersonByEmail(ctx context.Context, email string) (mandates.Person, error) {
	p, err := scanPerson(s.q(ctx).QueryRow(ctx, `SELECT `+personColumns+` FROM persons WHERE email_key = $1`, mandates.EmailKey(email)))
	if err != nil {
		return p, fmt.Errorf("person by email: %w", err)
	}
	return p, nil
}

// UpdatePerson implements mandates.PersonStore: the row is locked for the
// transaction (FOR UPDATE), so concurrent updates queue instead of losing
// one another; the version check stays as a second guard.
func (s *Store) UpdatePerson(ctx context.Context, id string, fn func(*mandates.Person) error) (mandates.Person, error) {
	if !mandates.IsID(id) {
		return mandates.Person{}, fmt.Errorf("update person %q: %w", id, mandates.ErrNotFound)
	}
	var out mandates.Person
	err := s.write(ctx, func(q querier) error {
		old, err := scanPerson(q.QueryRow(ctx, `SELECT `+personColumns+` FROM persons WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("update person %s: %w", id, err)
		}
		p, err := mandates.ApplyUpdate(old, fn, s.now())
		if err != nil {
			return fmt.Errorf("update person %s: %w", id, err)
		}
		tag, err := q.Exec(ctx, `UPDATE persons SET given_names = $1, family_name = $2, preferred_name = $3, birth_date = $4,
			birth_place_code = $5, birth_place_label = $6, birth_country = $7, gender = $8, email = $9, email_key = $10, phone = $11,
			language = $12, password_hash = $13, updated_at = $14, version = $15, address_street = $16, address_postal_code = $17,
			address_locality = $18, address_country = $19, pivot_key = $22 WHERE id = $20 AND version = $21`,
			p.GivenNames, p.FamilyName, p.PreferredName, p.BirthDate, p.BirthPlace.Code, p.BirthPlace.Label,
			p.BirthCountry, string(p.Gender), p.Email, emailKey(p.Email), p.Phone, p.Language, p.PasswordHash,
			p.UpdatedAt, p.Version, p.Address.Street, p.Address.PostalCode, p.Address.Locality, p.Address.Country, id, old.Version, pivotKey(p))
		if err != nil {
			return fmt.Errorf("update person %s: %w", id, mapErr(err, "person"))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update person %s: %w", id, mandates.ErrConflict)
		}
		out = p
		return nil
	})
	return out, err
}
