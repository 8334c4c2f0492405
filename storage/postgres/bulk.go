package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// The bulk loads below fill a store with many records at once, through
// COPY, for cmd/relais-seed: records built by the domain's own code
// (persons validated, journal entries hashed by mandates/journal, token
// records encoded by authz), written as the other methods write them.
// Each call is one transaction; nothing is checked against what the store
// already holds beyond its constraints, which fail the whole call.

// LoadPersons writes persons, each as CreatePerson would.
func (s *Store) LoadPersons(ctx context.Context, persons []mandates.Person) error {
	now := s.now().UTC()
	rows := make([][]any, len(persons))
	for i, p := range persons {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("load person %s: %w", p.ID, err)
		}
		id, err := uuidBytes(p.ID)
		if err != nil {
			return fmt.Errorf("load person %s: %w", p.ID, err)
		}
		rows[i] = []any{id, p.GivenNames, p.FamilyName, p.PreferredName, p.BirthDate, p.BirthPlace.Code, p.BirthPlace.Label,
			p.BirthCountry, string(p.Gender), p.Email, p.Phone, p.Language, p.PasswordHash, now, now, int64(1), emailKey(p.Email),
			p.Address.Street, p.Address.PostalCode, p.Address.Locality, p.Address.Country, pivotKey(p)}
	}
	return s.copyIn(ctx, "persons", []string{"id", "given_names", "family_name", "preferred_name", "birth_date", "birth_place_code",
		"birth_place_label", "birth_country", "gender", "email", "phone", "language", "password_hash", "created_at", "updated_at", "version",
		"email_key", "address_street", "address_postal_code", "address_locality", "address_country", "pivot_key"}, rows)
}

// LoadSubjects writes the pairwise subjects of sector, subjects[i] standing
// for personIDs[i], as SaveSubject would.
func (s *Store) LoadSubjects(ctx context.Context, sector string, subjects, personIDs []string) error {
	if len(subjects) != len(personIDs) {
		return fmt.Errorf("load subjects: %d subjects, %d persons", len(subjects), len(personIDs))
	}
	rows := make([][]any, len(subjects))
	for i := range subjects {
		id, err := uuidBytes(personIDs[i])
		if err != nil {
			return fmt.Errorf("load subject of %s: %w", personIDs[i], err)
		}
		rows[i] = []any{sector, subjects[i], id}
	}
	return s.copyIn(ctx, "pairwise_subjects", []string{"sector", "subject", "person_id"}, rows)
}

// LoadTokens writes token records as CreateToken would, with each record's
// own CreatedAt.
func (s *Store) LoadTokens(ctx context.Context, recs []oauth.TokenRecord) error {
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = []any{string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active, r.Request, r.ExpiresAt.UTC(), r.CreatedAt.UTC()}
	}
	return s.copyIn(ctx, "oauth_tokens", []string{"kind", "signature", "request_id", "client_id", "subject", "active", "request", "expires_at", "created_at"}, rows)
}

// LoadJournal writes entries and their details (details[i] is entries[i]'s)
// as AppendJournalBatch would.
func (s *Store) LoadJournal(ctx context.Context, entries []journal.Entry, details []journal.Detail) error {
	if len(entries) != len(details) {
		return fmt.Errorf("load journal: %d entries, %d details", len(entries), len(details))
	}
	es := make([][]any, len(entries))
	ds := make([][]any, len(entries))
	for i := range entries {
		e, d := &entries[i], &details[i]
		areas := make([]string, len(e.Areas))
		for j, a := range e.Areas {
			areas[j] = string(a)
		}
		f := d.Fields
		if f == nil {
			f = map[string]string{}
		}
		fields, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("load journal %s entry %d: %w", e.Chain, e.Seq, err)
		}
		es[i] = []any{e.Chain, e.Seq, string(e.Type), e.At.UTC(), e.ActorID, e.OrganisationID, e.PersonID, e.RepresentationID, e.ClientID,
			areas, e.DetailHash[:], e.Prev[:], e.Hash[:]}
		ds[i] = []any{e.Chain, e.Seq, d.Salt, string(fields)}
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		tx := s.txFrom(ctx)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"journal_entries"}, []string{"chain", "seq", "type", "at", "actor_id", "organisation_id",
			"person_id", "representation_id", "client_id", "areas", "detail_hash", "prev_hash", "hash"}, pgx.CopyFromRows(es)); err != nil {
			return fmt.Errorf("load journal entries: %w", mapErr(err, "journal entry"))
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"journal_details"}, []string{"chain", "seq", "salt", "detail"}, pgx.CopyFromRows(ds)); err != nil {
			return fmt.Errorf("load journal details: %w", mapErr(err, "journal detail"))
		}
		return nil
	})
}

// copyIn copies rows into table, in the transaction in ctx or its own.
func (s *Store) copyIn(ctx context.Context, table string, columns []string, rows [][]any) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.txFrom(ctx).CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("load %s: %w", table, mapErr(err, table))
		}
		return nil
	})
}

// uuidBytes is the 16 bytes of a UUID in its text form, which COPY's
// binary format wants for a uuid column.
func uuidBytes(id string) ([16]byte, error) {
	var b [16]byte
	h := strings.ReplaceAll(id, "-", "")
	if len(h) != 32 {
		return b, fmt.Errorf("id %q: %w", id, mandates.ErrInvalid)
	}
	if _, err := hex.Decode(b[:], []byte(h)); err != nil {
		return b, fmt.Errorf("id %q: %w", id, mandates.ErrInvalid)
	}
	return b, nil
}
