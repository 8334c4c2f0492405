package sqlite

import (
	"context"
	"fmt"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// The bulk loads below fill a store with many records at once, for
// cmd/relais-seed: records built by the domain's own code (persons
// validated, journal entries hashed by mandates/journal, token records
// encoded by authz), written as the other methods write them, each call in
// one transaction of the single writer with statements prepared once.

// BeginBulk sets the writer's connection for a bulk load: no fsync at each
// commit (a crash during the load loses the load, not the database, which
// WAL keeps consistent) and a 256 MiB page cache. EndBulk restores
// Open's settings; call it when the load is done.
func (s *Store) BeginBulk(ctx context.Context) error {
	for _, p := range []string{`PRAGMA synchronous = OFF`, `PRAGMA cache_size = -262144`} {
		if _, err := s.w.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("begin bulk load: %w", mapErr(err, ""))
		}
	}
	return nil
}

// EndBulk restores the writer's settings after BeginBulk and checkpoints
// the WAL into the database file.
func (s *Store) EndBulk(ctx context.Context) error {
	for _, p := range []string{`PRAGMA synchronous = NORMAL`, `PRAGMA cache_size = -2000`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := s.w.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("end bulk load: %w", mapErr(err, ""))
		}
	}
	return nil
}

// LoadPersons writes persons, each through CreatePerson, in one
// transaction.
func (s *Store) LoadPersons(ctx context.Context, persons []mandates.Person) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, p := range persons {
			if err := s.CreatePerson(ctx, p); err != nil {
				return fmt.Errorf("load persons: %w", err)
			}
		}
		return nil
	})
}

// LoadSubjects writes the pairwise subjects of sector, subjects[i] standing
// for personIDs[i], as SaveSubject would.
func (s *Store) LoadSubjects(ctx context.Context, sector string, subjects, personIDs []string) error {
	if len(subjects) != len(personIDs) {
		return fmt.Errorf("load subjects: %d subjects, %d persons", len(subjects), len(personIDs))
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		st, err := s.txFrom(ctx).PrepareContext(ctx, `INSERT INTO pairwise_subjects (sector, subject, person_id) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("load subjects: %w", mapErr(err, ""))
		}
		defer st.Close()
		for i := range subjects {
			if _, err := st.ExecContext(ctx, sector, subjects[i], personIDs[i]); err != nil {
				return fmt.Errorf("load subject of %s: %w", personIDs[i], mapErr(err, "subject"))
			}
		}
		return nil
	})
}

// LoadTokens writes token records as CreateToken would, with each record's
// own CreatedAt.
func (s *Store) LoadTokens(ctx context.Context, recs []oauth.TokenRecord) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		st, err := s.txFrom(ctx).PrepareContext(ctx, `INSERT INTO oauth_tokens (kind, signature, request_id, client_id, subject, active, request,
			expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("load tokens: %w", mapErr(err, ""))
		}
		defer st.Close()
		for _, r := range recs {
			if _, err := st.ExecContext(ctx, string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active, r.Request,
				ms(r.ExpiresAt), ms(r.CreatedAt)); err != nil {
				return fmt.Errorf("load %s token: %w", r.Kind, mapErr(err, "token"))
			}
		}
		return nil
	})
}

// LoadJournal writes entries and their details (details[i] is entries[i]'s)
// through AppendJournalBatch, in one transaction.
func (s *Store) LoadJournal(ctx context.Context, entries []journal.Entry, details []journal.Detail) error {
	return s.InTx(ctx, func(ctx context.Context) error { return s.AppendJournalBatch(ctx, entries, details) })
}
