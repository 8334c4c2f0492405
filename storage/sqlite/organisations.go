package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/internal/jsoncol"
)

const organisationColumns = `id, name, kind, areas, created_by, created_at, updated_at, version,
	address_street, address_postal_code, address_locality, address_country, siret`

func scanOrganisation(row interface{ Scan(...any) error }) (mandates.Organisation, error) {
	var o mandates.Organisation
	var areas string
	var created, updated int64
	if err := row.Scan(&o.ID, &o.Name, &o.Kind, &areas, &o.CreatedBy, &created, &updated, &o.Version,
		&o.Address.Street, &o.Address.PostalCode, &o.Address.Locality, &o.Address.Country, &o.SIRET); err != nil {
		return o, mapErr(err, "organisation")
	}
	if err := json.Unmarshal([]byte(areas), &o.Areas); err != nil {
		return o, fmt.Errorf("organisation %s: stored areas: %w", o.ID, err)
	}
	o.Areas = orNil(o.Areas)
	o.CreatedAt, o.UpdatedAt = fromMS(created), fromMS(updated)
	return o, nil
}

// CreateOrganisation implements mandates.OrganisationStore.
func (s *Store) CreateOrganisation(ctx context.Context, o mandates.Organisation) error {
	if err := o.Validate(); err != nil {
		return err
	}
	now := ms(s.now())
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO organisations (`+organisationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
			o.ID, o.Name, string(o.Kind), jsoncol.Array(o.Areas), o.CreatedBy, now, now,
			o.Address.Street, o.Address.PostalCode, o.Address.Locality, o.Address.Country, o.SIRET)
		if err != nil {
			return fmt.Errorf("create organisation %s: %w", o.ID, mapErr(err, "organisation"))
		}
		return nil
	})
}

// Organisation implements mandates.OrganisationStore.
func (s *Store) Organisation(ctx context.Context, id string) (mandates.Organisation, error) {
	o, err := scanOrganisation(s.reader(ctx).QueryRowContext(ctx, `SELECT `+organisationColumns+` FROM organisations WHERE id = ?`, id))
	if err != nil {
		return o, fmt.Errorf("organisation %s: %w", id, err)
	}
	return o, nil
}

// Organisations implements mandates.OrganisationStore, ordered by name.
func (s *Store) Organisations(ctx context.Context) ([]mandates.Organisation, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+organisationColumns+` FROM organisations ORDER BY name, id`)
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

// UpdateOrganisation implements mandates.OrganisationStore.
func (s *Store) UpdateOrganisation(ctx context.Context, id string, fn func(*mandates.Organisation) error) (mandates.Organisation, error) {
	var out mandates.Organisation
	err := s.write(ctx, func(q querier) error {
		old, err := scanOrganisation(q.QueryRowContext(ctx, `SELECT `+organisationColumns+` FROM organisations WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("update organisation %s: %w", id, err)
		}
		o, err := mandates.ApplyOrganisationUpdate(old, fn, fromMS(ms(s.now())))
		if err != nil {
			return fmt.Errorf("update organisation %s: %w", id, err)
		}
		res, err := q.ExecContext(ctx, `UPDATE organisations SET name = ?, kind = ?, areas = ?, created_by = ?, updated_at = ?,
			version = ?, address_street = ?, address_postal_code = ?, address_locality = ?, address_country = ?, siret = ? WHERE id = ? AND version = ?`,
			o.Name, string(o.Kind), jsoncol.Array(o.Areas), o.CreatedBy, ms(o.UpdatedAt), o.Version,
			o.Address.Street, o.Address.PostalCode, o.Address.Locality, o.Address.Country, o.SIRET, id, old.Version)
		if err != nil {
			return fmt.Errorf("update organisation %s: %w", id, mapErr(err, "organisation"))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update organisation %s: %w", id, mandates.ErrConflict)
		}
		out = o
		return nil
	})
	return out, err
}

const membershipColumns = `organisation_id, person_id, role, active, habilitated_by, habilitated_at, withdrawn_by, withdrawn_at, version`

func scanMembership(row interface{ Scan(...any) error }) (mandates.Membership, error) {
	var m mandates.Membership
	var habilitated int64
	var withdrawn sql.NullInt64
	if err := row.Scan(&m.OrganisationID, &m.PersonID, &m.Role, &m.Active, &m.HabilitatedBy, &habilitated, &m.WithdrawnBy,
		&withdrawn, &m.Version); err != nil {
		return m, mapErr(err, "membership")
	}
	m.HabilitatedAt, m.WithdrawnAt = fromMS(habilitated), fromNullMS(withdrawn)
	return m, nil
}

// SaveMembership implements mandates.OrganisationStore.
func (s *Store) SaveMembership(ctx context.Context, m mandates.Membership) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		if m.Version == 0 {
			_, err := q.ExecContext(ctx, `INSERT INTO organisation_members (`+membershipColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
				ON CONFLICT (organisation_id, person_id) DO UPDATE SET role = excluded.role, active = excluded.active,
				habilitated_by = excluded.habilitated_by, habilitated_at = excluded.habilitated_at,
				withdrawn_by = excluded.withdrawn_by, withdrawn_at = excluded.withdrawn_at,
				version = organisation_members.version + 1`,
				m.OrganisationID, m.PersonID, string(m.Role), m.Active, m.HabilitatedBy, ms(m.HabilitatedAt), m.WithdrawnBy,
				msOrNull(m.WithdrawnAt))
			if err != nil {
				return fmt.Errorf("save membership: %w", mapErr(err, "membership"))
			}
			return nil
		}
		res, err := q.ExecContext(ctx, `UPDATE organisation_members SET role = ?, active = ?, habilitated_by = ?, habilitated_at = ?,
			withdrawn_by = ?, withdrawn_at = ?, version = version + 1 WHERE organisation_id = ? AND person_id = ? AND version = ?`,
			string(m.Role), m.Active, m.HabilitatedBy, ms(m.HabilitatedAt), m.WithdrawnBy, msOrNull(m.WithdrawnAt),
			m.OrganisationID, m.PersonID, m.Version)
		if err != nil {
			return fmt.Errorf("save membership: %w", mapErr(err, "membership"))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("save membership: %w", mandates.ErrConflict)
		}
		return nil
	})
}

// Membership implements mandates.OrganisationStore.
func (s *Store) Membership(ctx context.Context, organisationID, personID string) (mandates.Membership, error) {
	m, err := scanMembership(s.reader(ctx).QueryRowContext(ctx, `SELECT `+membershipColumns+` FROM organisation_members
		WHERE organisation_id = ? AND person_id = ?`, organisationID, personID))
	if err != nil {
		return m, fmt.Errorf("membership: %w", err)
	}
	return m, nil
}

func (s *Store) memberships(ctx context.Context, what, where string, arg any) ([]mandates.Membership, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+membershipColumns+` FROM organisation_members
		WHERE `+where+` ORDER BY habilitated_at, organisation_id, person_id`, arg)
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
	return s.memberships(ctx, "members of an organisation", `organisation_id = ?`, organisationID)
}

// MembershipsOf implements mandates.OrganisationStore, in the order they
// were habilitated.
func (s *Store) MembershipsOf(ctx context.Context, personID string) ([]mandates.Membership, error) {
	rows, err := s.queryHot(ctx, &s.hot.memberships, personID)
	if err != nil {
		return nil, fmt.Errorf("memberships of a person: %w", mapErr(err, "membership"))
	}
	out, _, err := scanMemberships(rows)
	if err != nil {
		return nil, fmt.Errorf("memberships of a person: %w", err)
	}
	return out, nil
}

// GrantRole implements mandates.RoleStore; granting a role held is a no-op.
func (s *Store) GrantRole(ctx context.Context, personID string, role mandates.StaffRole) error {
	if role == "" {
		return fmt.Errorf("grant role: %w", &mandates.InvalidError{Field: "role", Rule: mandates.RuleRequired})
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO staff_roles (person_id, role) VALUES (?, ?) ON CONFLICT DO NOTHING`,
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
	return s.write(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM staff_roles WHERE person_id = ? AND role = ?`, personID, string(role)); err != nil {
			return fmt.Errorf("revoke role: %w", mapErr(err, "role"))
		}
		return nil
	})
}

// HasRole implements mandates.RoleStore.
func (s *Store) HasRole(ctx context.Context, personID string, role mandates.StaffRole) (bool, error) {
	var found bool
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM staff_roles WHERE person_id = ? AND role = ?)`,
		personID, string(role)).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("has role: %w", mapErr(err, "role"))
	}
	return found, nil
}
