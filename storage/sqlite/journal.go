package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

var (
	_ journal.Store             = (*Store)(nil)
	_ keyring.JournalKeyStore   = (*Store)(nil)
	_ journal.CheckpointSummary = (*Store)(nil)
)

const entryColumns = `e.chain, e.seq, e.type, e.at, e.actor_id, e.organisation_id, e.person_id, e.representation_id,
	e.client_id, e.areas, e.detail_hash, e.prev_hash, e.hash`

func scanEntry(row interface{ Scan(...any) error }, extra ...any) (journal.Entry, error) {
	var e journal.Entry
	var at int64
	var areas string
	var dh, prev, h []byte
	dest := append([]any{&e.Chain, &e.Seq, &e.Type, &at, &e.ActorID, &e.OrganisationID, &e.PersonID, &e.RepresentationID,
		&e.ClientID, &areas, &dh, &prev, &h}, extra...)
	if err := row.Scan(dest...); err != nil {
		return e, mapErr(err, "journal entry")
	}
	e.At = fromMS(at)
	if err := json.Unmarshal([]byte(areas), &e.Areas); err != nil {
		return e, fmt.Errorf("journal %s entry %d: areas: %w", e.Chain, e.Seq, err)
	}
	if len(e.Areas) == 0 {
		e.Areas = nil
	}
	var err error
	if e.DetailHash, err = journal.HashOf(dh); err == nil {
		if e.Prev, err = journal.HashOf(prev); err == nil {
			e.Hash, err = journal.HashOf(h)
		}
	}
	if err != nil {
		return e, fmt.Errorf("journal %s entry %d: %w", e.Chain, e.Seq, err)
	}
	return e, nil
}

// JournalHead implements journal.Store.
func (s *Store) JournalHead(ctx context.Context, chain string) (journal.Entry, error) {
	e := journal.Entry{Chain: chain}
	var h []byte
	var row *sql.Row
	if tx := s.txFrom(ctx); tx != nil {
		if st := inWriteTx(ctx, tx, &s.whot.head); st != nil {
			row = st.QueryRowContext(ctx, chain)
		}
	}
	if row == nil {
		row = s.reader(ctx).QueryRowContext(ctx, journalHeadSQL, chain)
	}
	err := row.Scan(&e.Seq, &h)
	if err == nil {
		e.Hash, err = journal.HashOf(h)
	}
	if err != nil {
		return e, fmt.Errorf("journal head %s: %w", chain, mapErr(err, "journal entry"))
	}
	return e, nil
}

func areasJSON(a []mandates.Area) string {
	if a == nil {
		a = []mandates.Area{}
	}
	b, _ := json.Marshal(a)
	return string(b)
}

func detailJSON(f map[string]string) string {
	if f == nil {
		f = map[string]string{}
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// AppendJournal implements journal.Store. ON CONFLICT DO NOTHING leaves
// the transaction usable when another writer took the number.
func (s *Store) AppendJournal(ctx context.Context, e journal.Entry, d journal.Detail) error {
	return s.write(ctx, func(q querier) error { return s.appendEntry(ctx, q, &e, &d) })
}

// appendEntry writes e and its detail with the writer's prepared
// statements; journal.ErrSeqTaken when the chain already holds e.Seq.
func (s *Store) appendEntry(ctx context.Context, q querier, e *journal.Entry, d *journal.Detail) error {
	res, err := s.execHot(ctx, q, &s.whot.entry,
		e.Chain, e.Seq, string(e.Type), ms(e.At), e.ActorID, e.OrganisationID, e.PersonID, e.RepresentationID, e.ClientID,
		areasJSON(e.Areas), e.DetailHash[:], e.Prev[:], e.Hash[:])
	if err != nil {
		return fmt.Errorf("append journal %s entry %d: %w", e.Chain, e.Seq, mapErr(err, "journal entry"))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return journal.ErrSeqTaken
	}
	if _, err := s.execHot(ctx, q, &s.whot.detail, e.Chain, e.Seq, d.Salt, detailJSON(d.Fields)); err != nil {
		return fmt.Errorf("append journal %s detail %d: %w", e.Chain, e.Seq, mapErr(err, "journal detail"))
	}
	return nil
}

// JournalEntries implements journal.Reader. It reads from one snapshot.
func (s *Store) JournalEntries(ctx context.Context, chain string, fn func(journal.Stored) error) error {
	q := `SELECT ` + entryColumns + `, d.chain IS NOT NULL, d.salt, d.detail, d.erased_at, coalesce(d.erasure_reason, '')
		FROM journal_entries e LEFT JOIN journal_details d ON d.chain = e.chain AND d.seq = e.seq`
	args := []any{}
	if chain != "" {
		q += ` WHERE e.chain = ?`
		args = append(args, chain)
	}
	rows, err := s.reader(ctx).QueryContext(ctx, q+` ORDER BY e.chain, e.seq`, args...)
	if err != nil {
		return fmt.Errorf("journal entries: %w", mapErr(err, ""))
	}
	defer rows.Close()
	for rows.Next() {
		var has bool
		var salt []byte
		var detail sql.NullString
		var erased sql.NullInt64
		var reason string
		e, err := scanEntry(rows, &has, &salt, &detail, &erased, &reason)
		if err != nil {
			return err
		}
		st := journal.Stored{Entry: e}
		if has {
			d := &journal.Detail{Salt: salt, ErasedAt: fromNullMS(erased), Reason: reason}
			if detail.Valid {
				if err := json.Unmarshal([]byte(detail.String), &d.Fields); err != nil {
					return fmt.Errorf("journal %s detail %d: %w", e.Chain, e.Seq, err)
				}
			}
			st.Detail = d
		}
		if err := fn(st); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal entries: %w", mapErr(err, ""))
	}
	return nil
}

// JournalHeads implements journal.Store. SQLite returns the bare columns
// of the row holding max(seq).
func (s *Store) JournalHeads(ctx context.Context) ([]journal.Head, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT chain, max(seq), hash FROM journal_entries GROUP BY chain ORDER BY chain`)
	if err != nil {
		return nil, fmt.Errorf("journal heads: %w", mapErr(err, ""))
	}
	defer rows.Close()
	var out []journal.Head
	for rows.Next() {
		var h journal.Head
		var b []byte
		if err := rows.Scan(&h.Chain, &h.Seq, &b); err != nil {
			return nil, fmt.Errorf("journal heads: %w", mapErr(err, ""))
		}
		if h.Hash, err = journal.HashOf(b); err != nil {
			return nil, fmt.Errorf("journal head %s: %w", h.Chain, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal heads: %w", mapErr(err, ""))
	}
	return out, nil
}

// EraseJournalDetails implements journal.Store.
func (s *Store) EraseJournalDetails(ctx context.Context, chain string, before, at time.Time, reason string) (int64, error) {
	var n int64
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE journal_details SET salt = NULL, detail = NULL, erased_at = ?, erasure_reason = ?
			WHERE erased_at IS NULL AND (chain, seq) IN
			(SELECT chain, seq FROM journal_entries WHERE at < ? AND (? = '' OR chain = ?))`,
			ms(at), reason, ms(before), chain, chain)
		if err != nil {
			return fmt.Errorf("erase journal details: %w", mapErr(err, ""))
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// CreateCheckpoint implements journal.Store.
func (s *Store) CreateCheckpoint(ctx context.Context, c journal.Checkpoint) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO journal_checkpoints (number, at, tree_size, root, prev, key_id, jws)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Number, ms(c.At), c.TreeSize, c.Root[:], c.Prev[:], c.KeyID, c.JWS)
		if err != nil {
			return fmt.Errorf("create checkpoint %d: %w", c.Number, mapErr(err, "checkpoint"))
		}
		for _, h := range c.Heads {
			if _, err := q.ExecContext(ctx, `INSERT INTO journal_checkpoint_heads (checkpoint, chain, seq, hash) VALUES (?, ?, ?, ?)`,
				c.Number, h.Chain, h.Seq, h.Hash[:]); err != nil {
				return fmt.Errorf("create checkpoint %d: %w", c.Number, mapErr(err, "checkpoint head"))
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO journal_checkpointed_heads (chain, seq, hash, checkpoint) VALUES (?, ?, ?, ?)
				ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, checkpoint = excluded.checkpoint`,
				h.Chain, h.Seq, h.Hash[:], c.Number); err != nil {
				return fmt.Errorf("create checkpoint %d: %w", c.Number, mapErr(err, "checkpoint head"))
			}
		}
		return nil
	})
}

// LastCheckpoint implements journal.CheckpointSummary.
func (s *Store) LastCheckpoint(ctx context.Context) (journal.Checkpoint, []journal.Head, error) {
	var c journal.Checkpoint
	var heads []journal.Head
	err := s.readTx(ctx, func(q querier) error {
		var at int64
		var root, prev []byte
		err := q.QueryRowContext(ctx, `SELECT number, at, tree_size, root, prev, key_id, jws FROM journal_checkpoints ORDER BY number DESC LIMIT 1`).
			Scan(&c.Number, &at, &c.TreeSize, &root, &prev, &c.KeyID, &c.JWS)
		if errors.Is(err, sql.ErrNoRows) {
			return mandates.ErrNotFound
		}
		if err != nil {
			return err
		}
		c.At = fromMS(at)
		if c.Root, err = journal.HashOf(root); err == nil {
			c.Prev, err = journal.HashOf(prev)
		}
		if err != nil {
			return fmt.Errorf("checkpoint %d: %w", c.Number, err)
		}
		rows, err := q.QueryContext(ctx, `SELECT chain, seq, hash FROM journal_checkpointed_heads`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h journal.Head
			var b []byte
			if err := rows.Scan(&h.Chain, &h.Seq, &b); err != nil {
				return err
			}
			if h.Hash, err = journal.HashOf(b); err != nil {
				return fmt.Errorf("checkpointed head %s: %w", h.Chain, err)
			}
			heads = append(heads, h)
		}
		return rows.Err()
	})
	if errors.Is(err, mandates.ErrNotFound) {
		return c, nil, err
	}
	if err != nil {
		return c, nil, fmt.Errorf("last checkpoint: %w", mapErr(err, ""))
	}
	return c, heads, nil
}

// Checkpoints implements journal.Reader.
func (s *Store) Checkpoints(ctx context.Context) ([]journal.Checkpoint, error) {
	var out []journal.Checkpoint
	err := s.readTx(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT number, at, tree_size, root, prev, key_id, jws FROM journal_checkpoints ORDER BY number`)
		if err != nil {
			return err
		}
		defer rows.Close()
		index := map[int64]int{}
		for rows.Next() {
			var c journal.Checkpoint
			var at int64
			var root, prev []byte
			if err := rows.Scan(&c.Number, &at, &c.TreeSize, &root, &prev, &c.KeyID, &c.JWS); err != nil {
				return err
			}
			c.At = fromMS(at)
			if c.Root, err = journal.HashOf(root); err != nil {
				return fmt.Errorf("checkpoint %d root: %w", c.Number, err)
			}
			if c.Prev, err = journal.HashOf(prev); err != nil {
				return fmt.Errorf("checkpoint %d prev: %w", c.Number, err)
			}
			index[c.Number] = len(out)
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = q.QueryContext(ctx, `SELECT checkpoint, chain, seq, hash FROM journal_checkpoint_heads ORDER BY checkpoint, chain`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			var h journal.Head
			var b []byte
			if err := rows.Scan(&n, &h.Chain, &h.Seq, &b); err != nil {
				return err
			}
			if h.Hash, err = journal.HashOf(b); err != nil {
				return fmt.Errorf("checkpoint %d head %s: %w", n, h.Chain, err)
			}
			if i, ok := index[n]; ok {
				out[i].Heads = append(out[i].Heads, h)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoints: %w", mapErr(err, ""))
	}
	return out, nil
}

// readTx runs fn in the transaction in ctx, or in a read-only transaction
// of its own, so that several queries read one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(q querier) error) error {
	if tx := s.txFrom(ctx); tx != nil {
		return fn(tx)
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

const journalLease = "journal"

// AcquireJournalLease implements journal.Store: the lease named journal.
func (s *Store) AcquireJournalLease(ctx context.Context, holder string, now, until time.Time) (bool, error) {
	return s.AcquireLease(ctx, journalLease, holder, now, until)
}

// AcquireLease takes or renews the lease name for holder until until: one
// row per name in journal_lease, taken over only once expired. Each
// background job has its own name.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	var got bool
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO journal_lease (name, holder, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE journal_lease.expires_at <= ? OR journal_lease.holder = excluded.holder`,
			name, holder, ms(until), ms(now))
		if err != nil {
			return fmt.Errorf("lease %s: %w", name, mapErr(err, ""))
		}
		n, _ := res.RowsAffected()
		got = n == 1
		return nil
	})
	return got, err
}

// CreateJournalKey implements keyring.JournalKeyStore.
func (s *Store) CreateJournalKey(ctx context.Context, k keyring.JournalKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO journal_keys (id, generation, public_jwk, private_sealed, endorsement, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.Generation, string(k.Public), k.Private, k.Endorsement, ms(k.CreatedAt))
		if err != nil {
			err = mapErr(err, "journal key")
			var ue *mandates.UniqueError
			if errors.As(err, &ue) && ue.Field == "" {
				ue.Field = "generation"
			}
			return fmt.Errorf("create journal key %s: %w", k.ID, err)
		}
		return nil
	})
}

// EndorseJournalKey implements keyring.JournalKeyStore.
func (s *Store) EndorseJournalKey(ctx context.Context, id, endorsement string, private []byte) (bool, error) {
	var done bool
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE journal_keys SET endorsement = ?, private_sealed = ? WHERE id = ? AND endorsement = ''`,
			endorsement, private, id)
		if err != nil {
			return fmt.Errorf("endorse journal key %s: %w", id, mapErr(err, "journal key"))
		}
		n, _ := res.RowsAffected()
		done = n == 1
		return nil
	})
	return done, err
}

// JournalKeys implements keyring.JournalKeyStore.
func (s *Store) JournalKeys(ctx context.Context) ([]keyring.JournalKey, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT id, generation, public_jwk, private_sealed, endorsement, created_at FROM journal_keys ORDER BY generation`)
	if err != nil {
		return nil, fmt.Errorf("journal keys: %w", mapErr(err, ""))
	}
	defer rows.Close()
	var out []keyring.JournalKey
	for rows.Next() {
		var k keyring.JournalKey
		var public string
		var created int64
		if err := rows.Scan(&k.ID, &k.Generation, &public, &k.Private, &k.Endorsement, &created); err != nil {
			return nil, fmt.Errorf("journal keys: %w", mapErr(err, ""))
		}
		k.Public, k.CreatedAt = []byte(public), fromMS(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal keys: %w", mapErr(err, ""))
	}
	return out, nil
}

var _ journal.BatchAppender = (*Store)(nil)

// AppendJournalBatch implements journal.BatchAppender with the writer's
// prepared statements, one entry after the other: inside the writer's
// transaction each is a call into SQLite, not a round trip. A (chain,
// seq) already held stops it with ErrSeqTaken; the entries written before
// stay in the transaction, which the caller rolls back.
func (s *Store) AppendJournalBatch(ctx context.Context, entries []journal.Entry, details []journal.Detail) error {
	if len(entries) != len(details) {
		return fmt.Errorf("append journal: %d entries, %d details", len(entries), len(details))
	}
	return s.write(ctx, func(q querier) error {
		for i := range entries {
			if err := s.appendEntry(ctx, q, &entries[i], &details[i]); err != nil {
				return fmt.Errorf("append journal batch: %w", err)
			}
		}
		return nil
	})
}
