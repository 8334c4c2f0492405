package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/mandates"
)

const organisationColumns = `id::text, name, kind, areas, created_by, created_at, updated_at, version,
	address_street, address_postal_code, address_locality, address_country, siret`

func scanOrganisation(row interface{ Scan(...any) error }) (mandates.Organisation, error) {
	var o mandates.Organisation
	var areas []string
	if err := row.Scan(&o.ID, &o.Name, &o.Kind, &areas, &o.CreatedBy, &o.CreatedAt, &o.UpdatedAt, &o.Version,
		&o.Address.Street, &o.Address.PostalCode, &o.Address.Locality, &o.Address.Country, &o.SIRET); err != nil {
		return o, mapErr(err, "organisation")
	}
	o.Areas = typed[mandates.Area](areas)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, nil
}

// CreateOrganisation implements mandates.OrganisationStore.
func (s *Store) CreateOrganisation(ctx context.Context, o mandates.Organisation) error {
	if err := o.Validate(); err != nil {
		return err
	}
	now := s.now().UTC()
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO organisations (id, name, kind, areas, created_by, created_at, updated_at, version,
			address_street, address_postal_code, address_locality, address_country, siret)
			VALUES ($1, $2, $3, $4, $5, $6, $6, 1, $7, $8, $9, $10, $11)`, o.ID, o.Name, string(o.Kind), texts(o.Areas), o.CreatedBy, now,
			o.Address.Street, o.Address.PostalCode, o.Address.Locality, o.Address.Country, o.SIRET)
		if err != nil {
			return fmt.Errorf("create organisation %s: %w", o.ID, mapErr(err, "organisation"))
		}
		return nil
	})
}

// Organisation implements mandates.OrganisationStore.
func (s *Store) Organisation(ctx context.Context, id string) (mandates.Organisation, error) {
	if !mandates.IsID(id) {
		return mandates.Organisation{}, fmt.Errorf("organisation %q: %w", id, mandates.ErrNotFound)
	}
	o, err := scanOrganisation(s.q(ctx).QueryRow(ctx, `SELECT `+organisationColumns+` FROM organisations WHERE id = $1`, id))
	if err != nil {
		return o, fmt.Errorf("organisation %s: %w", id, err)
	}
	return o, nil
}

// Organisations implements mandates.OrganisationStore, ordered by name.
func (s *Store) Organisations(ctx context.Context) ([]mandates.Organisation, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+organisationColumns+` FROM organisations ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", mapErr(err, "organisation"))
	}
	defer rows.Close()
	var out []mandates.Organisation
	for rows.Next() {
		o, err := scanOrganisation(rows)
		if err != nil {
			return nil, fmt.Errorf("list organisations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list organisations: %w", mapErr(err, "organisation"))
	}
	return out, nil
}

// UpdateOrganisation implements mandates.OrganisationStore: the row is
// locked for the transaction (FOR UPDATE); the version check stays as a
// second guard.
func (s *Store) UpdateOrganisation(ctx context.Context, id string, fn func(*mandates.Organisation) error) (mandates.Organisation, error) {
	if !mandates.IsID(id) {
		return mandates.Organisation{}, fmt.Errorf("update organisation %q: %w", id, mandates.ErrNotFound)
	}
	var out mandates.Organisation
	err := s.write(ctx, func(q querier) error {
		old, err := scanOrganisation(q.QueryRow(ctx, `SELECT `+organisationColumns+` FROM organisations WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("update organisation %s: %w", id, err)
		}
		o, err := mandates.ApplyOrganisationUpdate(old, fn, s.now())
		if err != nil {
			return fmt.Errorf("update organisation %s: %w", id, err)
		}
		tag, err := q.Exec(ctx, `UPDATE organisations SET name = $1, kind = $2, areas = $3, created_by = $4, updated_at = $5,
			version = $6, address_street = $9, address_postal_code = $10, address_locality = $11, address_country = $12, siret = $13
			WHERE id = $7 AND version = $8`,
			o.Name, string(o.Kind), texts(o.Areas), o.CreatedBy, o.UpdatedAt, o.Version, id, old.Version,
			o.Address.Street, o.Address.PostalCode, o.Address.Locality, o.Address.Country, o.SIRET)
		if err != nil {
			return fmt.Errorf("update organisation %s: %w", id, mapErr(err, "organisation"))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update organisation %s: %w", id, mandates.ErrConflict)
		}
		out = o
		return nil
	})
	return out, err
}

const membershipColumns = `organisation_id::text, person_id::text, role, active, habilitated_by, habilitated_at, withdrawn_by,
	withdrawn_at, version`

func scanMembership(row interface{ Scan(...any) error }) (mandates.Membership, error) {
	var m mandates.Membership
	var withdrawn *time.Time
	if err := row.Scan(&m.OrganisationID, &m.PersonID, &m.Role, &m.Active, &m.HabilitatedBy, &m.HabilitatedAt, &m.WithdrawnBy,
		&withdrawn, &m.Version); err != nil {
		return m, mapErr(err, "membership")
	}
	m.HabilitatedAt = m.HabilitatedAt.UTC()
	if withdrawn != nil {
		m.WithdrawnAt = withdrawn.UTC()
	}
	return m, nil
}

// SaveMembership implements mandates.OrganisationStore.
func (s *Store) SaveMembership(ctx context.Context, m mandates.Membership) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		if m.Version == 0 {
			_, err := q.Exec(ctx, `INSERT INTO organisation_members (organisation_id, person_id, role, active, habilitated_by,
				habilitated_at, withdrawn_by, withdrawn_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
				ON CONFLICT (organisation_id, person_id) DO UPDATE SET role = excluded.role, active = excluded.active,
				habilitated_by = excluded.habilitated_by, habilitated_at = excluded.habilitated_at,
				withdrawn_by = excluded.withdrawn_by, withdrawn_at = excluded.withdrawn_at,
				version = organisation_members.version + 1`,
				m.OrganisationID, m.PersonID, string(m.Role), m.Active, m.HabilitatedBy, m.HabilitatedAt.UTC(), m.WithdrawnBy,
				nullTime(m.WithdrawnAt))
			if err != nil {
				return fmt.Errorf("save membership: %w", mapErr(err, "membership"))
			}
			return nil
		}
		tag, err := q.Exec(ctx, `UPDATE organisation_members SET role = $1, active = $2, habilitated_by = $3, habilitated_at = $4,
			withdrawn_by = $5, withdrawn_at = $6, version = version + 1
			WHERE organisation_id = $7 AND person_id = $8 AND version = $9`,
			string(m.Role), m.Active, m.HabilitatedBy, m.HabilitatedAt.UTC(), m.WithdrawnBy, nullTime(m.WithdrawnAt),
			m.OrganisationID, m.PersonID, m.Version)
		if err != nil {
			return fmt.Errorf("save membership: %w", mapErr(err, "membership"))
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("save membership: %w", mandates.ErrConflict)
		}
		return nil
	})
}

// Membership implements mandates.OrganisationStore.
func (s *Store) Membership(ctx context.Context, organisationID, personID string) (mandates.Membership, error) {
	if !mandates.IsID(organisationID) || !mandates.IsID(personID) {
		return mandates.Membership{}, fmt.Errorf("membership: %w", mandates.ErrNotFound)
	}
	m, err := scanMembership(s.q(ctx).QueryRow(ctx, `SELECT `+membershipColumns+` FROM organisation_members
		WHERE organisation_id = $1 AND person_id = $2`, organisationID, personID))
	if err != nil {
		return m, fmt.Errorf("membership: %w", err)
	}
	return m, nil
}

func (s *Store) memberships(ctx context.Context, what, where string, id string) ([]mandates.Membership, error) {
	if !mandates.IsID(id) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+membershipColumns+` FROM organisation_members
		WHERE `+where+` ORDER BY habilitated_at, organisation_id, person_id`, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err, "membership"))
	}
	defer rows.Close()
	var out []mandates.Membership
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapErr(err, "membership"))
	}
	return out, nil
}

// Members implements mandates.OrganisationStore, in the order they were
// habilitated.
func (s *Store) Members(ctx context.Context, organisationID string) ([]mandates.Membership, error) {
	return s.memberships(ctx, "members of an organisation", `organisation_id = $1`, organisationID)
}

// MembershipsOf implements mandates.OrganisationStore, in the order they
// were habilitated.
func (s *Store) MembershipsOf(ctx context.Context, personID string) ([]mandates.Membership, error) {
	return s.memberships(ctx, "memberships of a person", `person_id = $1`, personID)
}

// GrantRole implements mandates.RoleStore; granting a role held is a no-op.
func (s *Store) GrantRole(ctx context.Context, personID string, role mandates.StaffRole) error {
	if role == "" {
		return fmt.Errorf("grant role: %w", &mandates.InvalidError{Field: "role", Rule: mandates.RuleRequired})
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO staff_roles (person_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			personID, string(role))
		if err != nil {
			return fmt.Errorf("grant role: %w", mapErr(err, "role"))
		}
		return nil
	})
}

// RevokeRole implements mandates.RoleStore; revoking a role not held is a
// no-op.
func (s *Store) RevokeRole(ctx context.Context, personID string, role mandates.StaffRole) error {
	if !mandates.IsID(personID) {
		return nil
	}
	return s.write(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM staff_roles WHERE person_id = $1 AND role = $2`, personID, string(role)); err != nil {
			return fmt.Errorf("revoke role: %w", mapErr(err, "role"))
		}
		return nil
	})
}

// HasRole implements mandates.RoleStore.
func (s *Store) HasRole(ctx context.Context, personID string, role mandates.StaffRole) (bool, error) {
	if !mandates.IsID(personID) {
		return false, nil
	}
	var found bool
	err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff_roles WHERE person_id = $1 AND role = $2)`,
		personID, string(role)).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("has role: %w", mapErr(err, "role"))
	}
	return found, nil
}
