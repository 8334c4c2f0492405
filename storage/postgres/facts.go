package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relais-fr/relais/mandates"
)

var _ mandates.FactsStore = (*Store)(nil)

// Every access evaluation runs these. pgx prepares and caches each
// statement per connection (its default QueryExecModeCacheStatement), so
// they are parsed once per connection.
const (
	factsRepresentationsSQL = `SELECT ` + representationColumns + `,
		o.id::text, o.name, o.kind, o.areas, o.created_by, o.created_at, o.updated_at, o.version,
		o.address_street, o.address_postal_code, o.address_locality, o.address_country
		FROM representations r LEFT JOIN organisations o ON o.id = r.representative_org_id
		WHERE r.person_id = $1` + newestFirst
	// The actor's memberships, each with whether the actor has a confirmed
	// second factor: without one, no membership lets them act.
	membershipsOfSQL = `SELECT ` + membershipColumns + `,
		EXISTS (SELECT 1 FROM totp_secrets t WHERE t.person_id = organisation_members.person_id AND t.confirmed_at IS NOT NULL)
		FROM organisation_members
		WHERE person_id = $1 ORDER BY habilitated_at, organisation_id, person_id`
)

// withExtra scans a row's leading columns with a scanner written for
// them, and the columns after them into extra.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// DecisionFacts implements mandates.FactsStore: the person's
// representations with their organisations in one statement and the
// actor's memberships in another, sent together in one round trip.
func (s *Store) DecisionFacts(ctx context.Context, personID, actorID string) (mandates.Facts, error) {
	f := mandates.Facts{Organisations: map[string]mandates.Organisation{}}
	if !mandates.IsID(personID) {
		return f, nil // no stored row has another id
	}
	read := func() error {
		f = mandates.Facts{Organisations: map[string]mandates.Organisation{}}
		return s.factsBatch(ctx, personID, actorID, &f)
	}
	var err error
	if s.txFrom(ctx) != nil {
		err = read()
	} else {
		err = s.await(ctx, true, read) // only SELECTs: safe to send again
	}
	if err != nil {
		return mandates.Facts{}, fmt.Errorf("facts of a decision: %w", err)
	}
	return f, nil
}

// factsBatch sends DecisionFacts' statements in one round trip and reads
// their rows into f.
func (s *Store) factsBatch(ctx context.Context, personID, actorID string, f *mandates.Facts) error {
	b := &pgx.Batch{}
	b.Queue(factsRepresentationsSQL, personID)
	withMembers := mandates.IsID(actorID)
	if withMembers {
		b.Queue(membershipsOfSQL, actorID)
	}
	var res pgx.BatchResults
	if tx := s.txFrom(ctx); tx != nil {
		res = tx.SendBatch(ctx, b)
	} else {
		res = s.pool.SendBatch(ctx, b)
	}
	defer res.Close()
	err := func() error {
		rows, err := res.Query()
		if err != nil {
			return mapErr(err, "representation")
		}
		defer rows.Close()
		for rows.Next() {
			var id, name, kind, createdBy *string
			var areas []string
			var created, updated *time.Time
			var version *int64
			var address mandates.Address
			var street, postalCode, locality, country *string
			r, err := scanRepresentation(withExtra{rows, []any{&id, &name, &kind, &areas, &createdBy, &created, &updated, &version,
				&street, &postalCode, &locality, &country}})
			if err != nil {
				return err
			}
			f.Representations = append(f.Representations, r)
			if id == nil {
				continue
			}
			address.Street, address.PostalCode, address.Locality, address.Country = *street, *postalCode, *locality, *country
			f.Organisations[*id] = mandates.Organisation{ID: *id, Name: *name, Kind: mandates.OrganisationKind(*kind),
				Areas: typed[mandates.Area](areas), CreatedBy: *createdBy, CreatedAt: created.UTC(), UpdatedAt: updated.UTC(),
				Version: *version, Address: address}
		}
		if err := rows.Err(); err != nil {
			return mapErr(err, "representation")
		}
		if !withMembers {
			return nil
		}
		if rows, err = res.Query(); err != nil {
			return mapErr(err, "membership")
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMembership(withExtra{rows, []any{&f.ActorSecondFactor}})
			if err != nil {
				return err
			}
			f.Memberships = append(f.Memberships, m)
		}
		return mapErr(rows.Err(), "membership")
	}()
	if cerr := res.Close(); err == nil && cerr != nil {
		err = mapErr(cerr, "")
	}
	return err
}
