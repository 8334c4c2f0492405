package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/mandates"
)

const personColumns = `id, given_names, family_name, preferred_name, birth_date, birth_place_code, birth_place_label,
	birth_country, gender, email, phone, language, password_hash, created_at, updated_at, version,
	address_street, address_postal_code, address_locality, address_country`

const dateLayout = "2006-01-02"

func scanPerson(row interface{ Scan(...any) error }) (mandates.Person, error) {
	var p mandates.Person
	var birth string
	var created, updated int64
	err := row.Scan(&p.ID, &p.GivenNames, &p.FamilyName, &p.PreferredName, &birth, &p.BirthPlace.Code, &p.BirthPlace.Label,
		&p.BirthCountry, &p.Gender, &p.Email, &p.Phone, &p.Language, &p.PasswordHash, &created, &updated, &p.Version,
		&p.Address.Street, &p.Address.PostalCode, &p.Address.Locality, &p.Address.Country)
	if err != nil {
		return p, mapErr(err, "person")
	}
	if p.BirthDate, err = time.Parse(dateLayout, birth); err != nil {
		return p, fmt.Errorf("person %s: stored birth date %q: %w", p.ID, birth, err)
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

// emailKey is NULL when there is no email, so persons without one do not
// collide on the unique index.
func emailKey(email string) any {
	if k := mandates.EmailKey(email); k != "" {
		return k
	}
	return nil
}

// pivotKey is NULL when the person has no pivot identity, so that such
// records match nobody.
func pivotKey(p mandates.Person) any {
	if k := mandates.PivotKey(p); k != "" {
		return k
	}
	return nil
}

// PersonsByPivot implements mandates.PivotStore.
func (s *Store) PersonsByPivot(ctx context.Context, key string) ([]mandates.Person, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+personColumns+` FROM persons WHERE pivot_key = ? ORDER BY id`, key)
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
	now := ms(s.now())
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO persons (`+personColumns+`, email_key, pivot_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.GivenNames, p.FamilyName, p.PreferredName, p.BirthDate.Format(dateLayout), p.BirthPlace.Code, p.BirthPlace.Label,
			p.BirthCountry, string(p.Gender), p.Email, p.Phone, p.Language, p.PasswordHash, now, now,
			p.Address.Street, p.Address.PostalCode, p.Address.Locality, p.Address.Country, emailKey(p.Email), pivotKey(p))
		if err != nil {
			return fmt.Errorf("create person %s: %w", p.ID, mapErr(err, "person"))
		}
		return nil
	})
}

// Person implements mandates.PersonStore.
func (s *Store) Person(ctx context.Context, id string) (mandates.Person, error) {
	p, err := scanPerson(s.reader(ctx).QueryRowContext(ctx, `SELECT `+personColumns+` FROM persons WHERE id = ?`, id))
	if err != nil {
		return p, fmt.Errorf("person %s: %w", id, err)
	}
	return p, nil
}

// PersonByEmail implements mandates.PersonStore.
func (s *Store) PersonByEmail(ctx context.Context, email string) (mandates.Person, error) {
	p, err := scanPerson(s.reader(ctx).QueryRowContext(ctx, `SELECT `+personColumns+` FROM persons WHERE email_key = ?`, mandates.EmailKey(email)))
	if err != nil {
		return p, fmt.Errorf("person by email: %w", err)
	}
	return p, nil
}

// UpdatePerson implements mandates.PersonStore. The single writer makes the
// read and the write atomic; the version check guards against a writer in
// another process all the same.
func (s *Store) UpdatePerson(ctx context.Context, id string, fn func(*mandates.Person) error) (mandates.Person, error) {
	var out mandates.Person
	err := s.write(ctx, func(q querier) error {
		old, err := scanPerson(q.QueryRowContext(ctx, `SELECT `+personColumns+` FROM persons WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("update person %s: %w", id, err)
		}
		p, err := mandates.ApplyUpdate(old, fn, s.now().Truncate(time.Millisecond))
		if err != nil {
			return fmt.Errorf("update person %s: %w", id, err)
		}
		res, err := q.ExecContext(ctx, `UPDATE persons SET given_names = ?, family_name = ?, preferred_name = ?, birth_date = ?,
			birth_place_code = ?, birth_place_label = ?, birth_country = ?, gender = ?, email = ?, email_key = ?, phone = ?,
			language = ?, password_hash = ?, updated_at = ?, version = ?, address_street = ?, address_postal_code = ?,
			address_locality = ?, address_country = ?, pivot_key = ? WHERE id = ? AND version = ?`,
			p.GivenNames, p.FamilyName, p.PreferredName, p.BirthDate.Format(dateLayout), p.BirthPlace.Code, p.BirthPlace.Label,
			p.BirthCountry, string(p.Gender), p.Email, emailKey(p.Email), p.Phone, p.Language, p.PasswordHash,
			ms(p.UpdatedAt), p.Version, p.Address.Street, p.Address.PostalCode, p.Address.Locality, p.Address.Country, pivotKey(p), id, old.Version)
		if err != nil {
			return fmt.Errorf("update person %s: %w", id, mapErr(err, "person"))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update person %s: %w", id, mandates.ErrConflict)
		}
		out = p
		return nil
	})
	return out, err
}
