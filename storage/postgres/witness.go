package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

var (
	_ journal.NoteStore    = (*Store)(nil)
	_ journal.WitnessStore = (*Store)(nil)
)

// CreateJournalNote implements journal.NoteStore.
func (s *Store) CreateJournalNote(ctx context.Context, number int64, text string, sig journal.NoteSignature) error {
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO journal_notes (number, text, key_name, key_id, signature) VALUES ($1, $2, $3, $4, $5)`,
		number, text, sig.Name, int64(sig.KeyID), sig.Sig)
	if err != nil {
		return fmt.Errorf("create note of checkpoint %d: %w", number, mapErr(err, "checkpoint note"))
	}
	return nil
}

// AddJournalCosignature implements journal.NoteStore.
func (s *Store) AddJournalCosignature(ctx context.Context, number int64, sig journal.NoteSignature) error {
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO journal_cosignatures (number, key_name, key_id, signature) VALUES ($1, $2, $3, $4)
		ON CONFLICT (number, key_name, key_id) DO UPDATE SET signature = excluded.signature`,
		number, sig.Name, int64(sig.KeyID), sig.Sig)
	if err != nil {
		return fmt.Errorf("cosignature of checkpoint %d: %w", number, mapErr(err, "cosignature"))
	}
	return nil
}

// LastJournalCosignature implements journal.NoteStore.
func (s *Store) LastJournalCosignature(ctx context.Context, name string, keyID uint32) (int64, error) {
	var n int64
	err := s.q(ctx).QueryRow(ctx, `SELECT coalesce(max(number), 0) FROM journal_cosignatures WHERE key_name = $1 AND key_id = $2`,
		name, int64(keyID)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("last cosignature of %s: %w", name, mapErr(err, ""))
	}
	return n, nil
}

// JournalNotes implements journal.NoteReader.
func (s *Store) JournalNotes(ctx context.Context, from int64) ([]journal.NumberedNote, error) {
	var out []journal.NumberedNote
	err := s.readTx(ctx, func(q querier) error {
		rows, err := q.Query(ctx, `SELECT number, text, key_name, key_id, signature FROM journal_notes WHERE number >= $1 ORDER BY number`, from)
		if err != nil {
			return err
		}
		index := map[int64]int{}
		for rows.Next() {
			var n journal.NumberedNote
			var sig journal.NoteSignature
			var id int64
			if err := rows.Scan(&n.Number, &n.Note.Text, &sig.Name, &id, &sig.Sig); err != nil {
				rows.Close()
				return err
			}
			sig.KeyID = uint32(id)
			n.Note.Sigs = []journal.NoteSignature{sig}
			index[n.Number] = len(out)
			out = append(out, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = q.Query(ctx, `SELECT number, key_name, key_id, signature FROM journal_cosignatures WHERE number >= $1
			ORDER BY number, key_name COLLATE "C", key_id`, from)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var number, id int64
			var sig journal.NoteSignature
			if err := rows.Scan(&number, &sig.Name, &id, &sig.Sig); err != nil {
				return err
			}
			sig.KeyID = uint32(id)
			if i, ok := index[number]; ok {
				out[i].Note.Sigs = append(out[i].Note.Sigs, sig)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint notes: %w", mapErr(err, ""))
	}
	return out, nil
}

// WitnessLatest implements journal.WitnessStore.
func (s *Store) WitnessLatest(ctx context.Context, origin string) (journal.WitnessState, error) {
	st := journal.WitnessState{Origin: origin}
	err := s.q(ctx).QueryRow(ctx, `SELECT number, text, updated_at FROM witness_checkpoints WHERE origin = $1`, origin).
		Scan(&st.Number, &st.Text, &st.At)
	if err != nil {
		return st, fmt.Errorf("witness state of %s: %w", origin, mapErr(err, ""))
	}
	st.At = st.At.UTC()
	return st, nil
}

// AdvanceWitness implements journal.WitnessStore: one statement, which
// inserts the first state or replaces the one numbered old; a writer that
// lost the race changes no row.
func (s *Store) AdvanceWitness(ctx context.Context, old int64, st journal.WitnessState) error {
	var tag pgconn.CommandTag
	var err error
	if old == 0 {
		tag, err = s.q(ctx).Exec(ctx, `INSERT INTO witness_checkpoints (origin, number, text, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (origin) DO NOTHING`, st.Origin, st.Number, st.Text, st.At.UTC())
	} else {
		tag, err = s.q(ctx).Exec(ctx, `UPDATE witness_checkpoints SET number = $1, text = $2, updated_at = $3 WHERE origin = $4 AND number = $5`,
			st.Number, st.Text, st.At.UTC(), st.Origin, old)
	}
	if err != nil {
		return fmt.Errorf("advance witness of %s: %w", st.Origin, mapErr(err, ""))
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("advance witness of %s from %d: %w", st.Origin, old, mandates.ErrConflict)
	}
	return nil
}
