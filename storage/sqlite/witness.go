package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

var (
	_ journal.NoteStore    = (*Store)(nil)
	_ journal.WitnessStore = (*Store)(nil)
)

// CreateJournalNote implements journal.NoteStore.
func (s *Store) CreateJournalNote(ctx context.Context, number int64, text string, sig journal.NoteSignature) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO journal_notes (number, text, key_name, key_id, signature) VALUES (?, ?, ?, ?, ?)`,
			number, text, sig.Name, int64(sig.KeyID), sig.Sig)
		if err != nil {
			return fmt.Errorf("create note of checkpoint %d: %w", number, mapErr(err, "checkpoint note"))
		}
		return nil
	})
}

// AddJournalCosignature implements journal.NoteStore.
func (s *Store) AddJournalCosignature(ctx context.Context, number int64, sig journal.NoteSignature) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO journal_cosignatures (number, key_name, key_id, signature) VALUES (?, ?, ?, ?)
			ON CONFLICT (number, key_name, key_id) DO UPDATE SET signature = excluded.signature`,
			number, sig.Name, int64(sig.KeyID), sig.Sig)
		if err != nil {
			return fmt.Errorf("cosignature of checkpoint %d: %w", number, mapErr(err, "cosignature"))
		}
		return nil
	})
}

// LastJournalCosignature implements journal.NoteStore.
func (s *Store) LastJournalCosignature(ctx context.Context, name string, keyID uint32) (int64, error) {
	var n int64
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT coalesce(max(number), 0) FROM journal_cosignatures WHERE key_name = ? AND key_id = ?`,
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
		rows, err := q.QueryContext(ctx, `SELECT number, text, key_name, key_id, signature FROM journal_notes WHERE number >= ? ORDER BY number`, from)
		if err != nil {
			return err
		}
		defer rows.Close()
		index := map[int64]int{}
		for rows.Next() {
			var n journal.NumberedNote
			var sig journal.NoteSignature
			var id int64
			if err := rows.Scan(&n.Number, &n.Note.Text, &sig.Name, &id, &sig.Sig); err != nil {
				return err
			}
			sig.KeyID = uint32(id)
			n.Note.Sigs = []journal.NoteSignature{sig}
			index[n.Number] = len(out)
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = q.QueryContext(ctx, `SELECT number, key_name, key_id, signature FROM journal_cosignatures WHERE number >= ?
			ORDER BY number, key_name, key_id`, from)
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
	var at int64
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT number, text, updated_at FROM witness_checkpoints WHERE origin = ?`, origin).
		Scan(&st.Number, &st.Text, &at)
	if err != nil {
		return st, fmt.Errorf("witness state of %s: %w", origin, mapErr(err, ""))
	}
	st.At = fromMS(at)
	return st, nil
}

// AdvanceWitness implements journal.WitnessStore: one statement, which
// inserts the first state or replaces the one numbered old; a writer that
// lost the race changes no row.
func (s *Store) AdvanceWitness(ctx context.Context, old int64, st journal.WitnessState) error {
	return s.write(ctx, func(q querier) error {
		var res sql.Result
		var err error
		if old == 0 {
			res, err = q.ExecContext(ctx, `INSERT INTO witness_checkpoints (origin, number, text, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (origin) DO NOTHING`, st.Origin, st.Number, st.Text, ms(st.At))
		} else {
			res, err = q.ExecContext(ctx, `UPDATE witness_checkpoints SET number = ?, text = ?, updated_at = ? WHERE origin = ? AND number = ?`,
				st.Number, st.Text, ms(st.At), st.Origin, old)
		}
		if err != nil {
			return fmt.Errorf("advance witness of %s: %w", st.Origin, mapErr(err, ""))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("advance witness of %s from %d: %w", st.Origin, old, mandates.ErrConflict)
		}
		return nil
	})
}
