package storagetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// JournalStore is what the journal runs on, with the representation
// service's store so that the service can journal into it.
type JournalStore interface {
	journal.Store
	journal.CheckpointSummary
	keyring.JournalKeyStore
	ServiceStore
}

// SQL runs one statement on the store's database behind its back, as
// someone tampering with the journal would. Statements are written to
// mean the same in SQLite and PostgreSQL.
type SQL func(t *testing.T, statement string)

// RunJournalStore runs the journal's part of the suite. newStore must
// return a fresh, empty, migrated store for each call, closed at
// t.Cleanup, and a way to run SQL on its database directly.
func RunJournalStore(t *testing.T, newStore func(t *testing.T) (JournalStore, SQL)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s JournalStore, exec SQL)
	}{
		{"an entry and its detail are read back as written", testJournalRoundTrip},
		{"a taken sequence number is reported and the transaction goes on", testJournalSeqTaken},
		{"an entry commits with the caller's transaction, or not at all", testJournalInCallersTx},
		{"heads are the last entry of each chain", testJournalHeads},
		{"erasure removes details and the journal still verifies", testJournalErasure},
		{"checkpoints are read back with their heads; a number is taken once", testJournalCheckpoints},
		{"the last checkpoint's cover is kept per chain and checked against its signed root", testJournalCheckpointSummary},
		{"the lease goes to one holder until it expires", testJournalLease},
		{"journal keys: one per generation, published, never a token key", testJournalKeys},
		{"many writers for one person: no gap, no fork, no loss", testJournalConcurrentOnePerson},
		{"an untouched journal verifies", testJournalUntouched},
		{"a page reads newest first, filtered, from where the last one ended", testJournalPage},
		{"a page holds only the entries the reader's scope shows, and stays full", testJournalPageScope},
		{"one person's journal pages in the order its chain was written", testJournalChainPageInWritingOrder},
		{"tampering in SQL is found and named", testJournalTamper},
		{"an expiry lands once in the person's chain, with its representation, areas and end", testJournalExpiry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, exec := newStore(t)
			tt.fn(t, s, exec)
		})
	}
	t.Run("every event the representation service emits lands in the right chain", func(t *testing.T) {
		ops := []struct {
			name string
			fn   func(t *testing.T, w *world)
		}{
			{"a measure registered", testRegisterMeasure},
			{"a mandate by code", testMandateByCode},
			{"a mandate by guessed codes", testMandateCodeGuessed},
			{"a proxy", testProxy},
			{"areas withdrawn", testWithdrawArea},
			{"a mandat de protection future", testMandatProtectionFuture},
			{"a withdrawn aidant", testWithdrawnAidant},
			{"a measure paused, resumed and corrected", testMeasureLifecycle},
			{"delegates named, a proxy declined", testDelegatesAndDeclinedProxy},
			{"expiries recorded", testRecordExpiries},
		}
		types := map[mandates.EventType]bool{}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				s, _ := newStore(t)
				for _, ty := range testJournalService(t, s, op.fn) {
					types[ty] = true
				}
			})
		}
		for _, want := range []mandates.EventType{mandates.EventCreated, mandates.EventConsentGiven, mandates.EventConsentCodeSent,
			mandates.EventConsentCodeWrong, mandates.EventActivated, mandates.EventRevoked, mandates.EventWithdrawn,
			mandates.EventAreaWithdrawn, mandates.EventAccepted, mandates.EventOrganisationCreated, mandates.EventMemberHabilitated,
			mandates.EventMemberWithdrawn, mandates.EventExpired, mandates.EventSuspended, mandates.EventResumed, mandates.EventUpdated,
			mandates.EventDelegatesChanged, mandates.EventDeclined} {
			if !types[want] {
				t.Errorf("no %s event was journaled by these operations", want)
			}
		}
	})
}

var journalT0 = time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC)

func journalEvent(person string, i int) mandates.Event {
	return mandates.Event{Type: mandates.EventActivated, At: journalT0.Add(time.Duration(i) * time.Minute), ActorID: mandates.NewID(journalT0),
		PersonID: person, RepresentationID: mandates.NewID(journalT0), ClientID: "caf", Areas: []mandates.Area{"social", "argent"},
		Detail: map[string]string{"n": fmt.Sprint(i), "motif": "décision « urgente »"}}
}

func emitN(t *testing.T, j *journal.Journal, person string, n int) {
	t.Helper()
	for i := range n {
		if err := j.Emit(t.Context(), journalEvent(person, i)); err != nil {
			t.Fatalf("emit %d for %s: %v", i, person, err)
		}
	}
}

func chainOf(t *testing.T, s journal.Reader, chain string) []journal.Stored {
	t.Helper()
	var out []journal.Stored
	if err := s.JournalEntries(t.Context(), chain, func(e journal.Stored) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// journalKeys is the real ES256 signer over the store, with a verifier.
func journalKeys(t testing.TB, s JournalStore) (*keyring.JournalKeys, journal.SignatureVerifier) {
	t.Helper()
	box, err := keyring.NewSecretBox([]byte(strings.Repeat("j", 32)))
	if err != nil {
		t.Fatal(err)
	}
	k := keyring.NewJournalKeys(s, box, time.Now)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	v, err := k.Verifier(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return k, v
}

func testJournalRoundTrip(t *testing.T, s JournalStore, _ SQL) {
	j := journal.New(s, journal.Options{})
	person := mandates.NewID(time.Now())
	e := journalEvent(person, 0)
	if err := j.Emit(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	rows := chainOf(t, s, person)
	if len(rows) != 1 {
		t.Fatalf("%d entries, want 1", len(rows))
	}
	got := rows[0]
	if got.Chain != person || got.Seq != 1 || got.Type != e.Type || !got.At.Equal(e.At) || got.At.Location() != time.UTC ||
		got.ActorID != e.ActorID || got.PersonID != person || got.RepresentationID != e.RepresentationID || got.ClientID != "caf" ||
		!slices.Equal(got.Areas, e.Areas) || got.Prev != (journal.Hash{}) || got.Hash != got.ComputeHash() {
		t.Errorf("entry read back differs: %+v", got.Entry)
	}
	if d := got.Detail; d == nil || d.Erased() || len(d.Salt) != 16 || d.Fields["motif"] != e.Detail["motif"] ||
		journal.DetailHash(d.Salt, d.Fields) != got.DetailHash {
		t.Errorf("detail read back differs: %+v", got.Detail)
	}
	head, err := s.JournalHead(t.Context(), person)
	if err != nil || head.Hash != got.Hash {
		t.Errorf("head: %+v, %v", head, err)
	}
	if _, err := s.JournalHead(t.Context(), "nobody"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("head of an empty chain: %v, want ErrNotFound", err)
	}
	// An event without a person or areas, with no detail.
	if err := j.Emit(t.Context(), mandates.Event{Type: mandates.EventOrganisationCreated, At: journalT0, OrganisationID: "o1"}); err != nil {
		t.Fatal(err)
	}
	org := chainOf(t, s, "org:o1")
	if len(org) != 1 || org[0].Areas != nil || org[0].Hash != org[0].ComputeHash() || org[0].Detail == nil {
		t.Errorf("organisation chain: %+v", org)
	}
}

func testJournalSeqTaken(t *testing.T, s JournalStore, _ SQL) {
	d := journal.NewDetail(nil)
	dh := journal.DetailHash(d.Salt, nil)
	first := journal.Next(nil, "p", journalEvent("p", 0), dh)
	rival := journal.Next(nil, "p", journalEvent("p", 1), dh)
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := s.AppendJournal(ctx, first, d); err != nil {
			return err
		}
		if err := s.AppendJournal(ctx, rival, d); !errors.Is(err, journal.ErrSeqTaken) {
			return fmt.Errorf("second entry 1: %v, want ErrSeqTaken", err)
		}
		second := journal.Next(&first, "p", journalEvent("p", 1), dh)
		return s.AppendJournal(ctx, second, d)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows := chainOf(t, s, "p"); len(rows) != 2 || rows[0].Hash != first.Hash {
		t.Errorf("after a lost race inside a transaction: %d entries", len(rows))
	}
}

func testJournalInCallersTx(t *testing.T, s JournalStore, _ SQL) {
	j := journal.New(s, journal.Options{})
	boom := errors.New("the change failed")
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := j.Emit(ctx, journalEvent("p", 0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if rows := chainOf(t, s, "p"); len(rows) != 0 {
		t.Errorf("%d entries left by a rolled back transaction", len(rows))
	}
	err = s.InTx(t.Context(), func(ctx context.Context) error {
		for i := range 3 {
			if err := j.Emit(ctx, journalEvent("p", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows := chainOf(t, s, "p"); len(rows) != 3 || rows[2].Seq != 3 || rows[2].Prev != rows[1].Hash {
		t.Errorf("three entries in one transaction: %d", len(rows))
	}
}

func testJournalHeads(t *testing.T, s JournalStore, _ SQL) {
	j := journal.New(s, journal.Options{})
	emitN(t, j, "b", 3)
	emitN(t, j, "a", 2)
	heads, err := s.JournalHeads(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	a, b := chainOf(t, s, "a"), chainOf(t, s, "b")
	want := []journal.Head{a[1].Head(), b[2].Head()}
	slices.SortFunc(heads, func(x, y journal.Head) int { return strings.Compare(x.Chain, y.Chain) })
	if !slices.Equal(heads, want) {
		t.Errorf("heads %+v, want %+v", heads, want)
	}
}

func testJournalErasure(t *testing.T, s JournalStore, _ SQL) {
	j := journal.New(s, journal.Options{Now: func() time.Time { return journalT0.Add(time.Hour) }})
	emitN(t, j, "p", 5)
	emitN(t, j, "q", 5)
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := j.Erase(t.Context(), "p", journalT0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("erase: %d, %v; want 2", n, err)
	}
	rows := chainOf(t, s, "p")
	if d := rows[0].Detail; !d.Erased() || d.Salt != nil || d.Fields != nil || d.Reason != journal.ReasonErasure || !d.ErasedAt.Equal(journalT0.Add(time.Hour)) {
		t.Errorf("erased detail: %+v", d)
	}
	if d := rows[2].Detail; d.Erased() || d.Fields["n"] != "2" {
		t.Errorf("detail after the date: %+v", d)
	}
	if n, _ := j.Erase(t.Context(), "p", journalT0.Add(2*time.Minute)); n != 0 {
		t.Errorf("erased again: %d", n)
	}
	n, err = j.Expire(t.Context(), 58*time.Minute) // before 14:07
	if err != nil || n != 2 {
		t.Errorf("retention: %d, %v; want 2 (q's first two)", n, err)
	}
	rep, err := journal.Verify(t.Context(), s, v, "")
	if err != nil || !rep.OK() || rep.Erased != 4 {
		t.Errorf("verify after erasure: %+v, %v", rep, err)
	}
}

func testJournalCheckpoints(t *testing.T, s JournalStore, _ SQL) {
	c := journal.Checkpoint{Number: 1, At: journalT0, TreeSize: 2, Root: journal.Hash{1}, KeyID: "journal-k", JWS: "a.b.c",
		Heads: []journal.Head{{Chain: "a", Seq: 3, Hash: journal.Hash{2}}, {Chain: "b", Seq: 1, Hash: journal.Hash{3}}}}
	if err := s.CreateCheckpoint(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c2 := journal.Checkpoint{Number: 2, At: journalT0.Add(time.Hour), TreeSize: 2, Root: journal.Hash{4}, Prev: journal.Hash{5}, KeyID: "journal-k", JWS: "d.e.f"}
	if err := s.CreateCheckpoint(t.Context(), c2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCheckpoint(t.Context(), c); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("number taken: %v, want ErrAlreadyExists", err)
	}
	got, err := s.Checkpoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Number != 1 || !got[0].At.Equal(journalT0) || got[0].Root != c.Root || got[0].JWS != c.JWS ||
		!slices.Equal(got[0].Heads, c.Heads) || got[1].Prev != c2.Prev || len(got[1].Heads) != 0 {
		t.Errorf("checkpoints read back: %+v", got)
	}
}

func testJournalLease(t *testing.T, s JournalStore, _ SQL) {
	ctx := t.Context()
	take := func(holder string, now time.Time) bool {
		t.Helper()
		ok, err := s.AcquireJournalLease(ctx, holder, now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("a", journalT0) {
		t.Fatal("a free lease was refused")
	}
	if take("b", journalT0.Add(59*time.Minute)) {
		t.Error("b took a's lease before it expired")
	}
	if !take("a", journalT0.Add(30*time.Minute)) {
		t.Error("a could not renew its own lease")
	}
	if !take("b", journalT0.Add(91*time.Minute)) {
		t.Error("b could not take an expired lease")
	}
	// Two holders at once on a free lease: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan string, 8)
	at := journalT0.Add(10 * time.Hour)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.AcquireJournalLease(ctx, fmt.Sprint("h", i), at, at.Add(time.Hour)); err == nil && ok {
				wins <- fmt.Sprint("h", i)
			}
		}()
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Errorf("%d holders took the lease at once, want 1", n)
	}
}

func testJournalKeys(t *testing.T, s JournalStore, _ SQL) {
	box, _ := keyring.NewSecretBox([]byte(strings.Repeat("j", 32)))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 { // instances starting together
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- keyring.NewJournalKeys(s, box, time.Now).Ensure(t.Context())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.JournalKeys(t.Context())
	if err != nil || len(all) != 1 || !strings.HasPrefix(all[0].ID, keyring.JournalKeyPrefix) {
		t.Fatalf("journal keys after four starts: %+v, %v", all, err)
	}
	k := all[0]
	k2 := k
	k2.ID = keyring.JournalKeyPrefix + "other"
	if err := s.CreateJournalKey(t.Context(), k2); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("generation taken: %v", err)
	}
	k2.Generation = 2
	k2.ID = k.ID
	if err := s.CreateJournalKey(t.Context(), k2); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("id taken: %v", err)
	}
	if err := s.CreateJournalKey(t.Context(), keyring.JournalKey{ID: "not-journal", Generation: 3}); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("invalid key: %v", err)
	}

	// An endorsement is written once, with the private key sealed again;
	// a second one (another instance, later) changes nothing.
	if done, err := s.EndorseJournalKey(t.Context(), k.ID, "first", []byte("sealed again")); err != nil || !done {
		t.Fatalf("endorse: %v, %v", done, err)
	}
	if done, err := s.EndorseJournalKey(t.Context(), k.ID, "second", []byte("other")); err != nil || done {
		t.Errorf("endorse again: %v, %v; want nothing done", done, err)
	}
	if done, err := s.EndorseJournalKey(t.Context(), keyring.JournalKeyPrefix+"none", "x", []byte("x")); err != nil || done {
		t.Errorf("endorse a key that does not exist: %v, %v", done, err)
	}
	all, err = s.JournalKeys(t.Context())
	if err != nil || len(all) != 1 || all[0].Endorsement != "first" || string(all[0].Private) != "sealed again" {
		t.Errorf("after endorsing: %+v, %v", all, err)
	}
	k3 := k
	k3.ID, k3.Generation, k3.Endorsement = keyring.JournalKeyPrefix+"third", 3, "endorsed at creation"
	if err := s.CreateJournalKey(t.Context(), k3); err != nil {
		t.Fatal(err)
	}
	if all, err := s.JournalKeys(t.Context()); err != nil || len(all) != 2 || all[1].Endorsement != k3.Endorsement {
		t.Errorf("a key created endorsed: %+v, %v", all, err)
	}
}

func testJournalConcurrentOnePerson(t *testing.T, s JournalStore, _ SQL) {
	const writers, each = 8, 25
	j := journal.New(s, journal.Options{})
	person, other := mandates.NewID(time.Now()), mandates.NewID(time.Now())
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*each)
	for w := range writers {
		wg.Add(2)
		write := func(p string) {
			defer wg.Done()
			for i := range each {
				e := journalEvent(p, w*each+i)
				// Inside a transaction, as the service emits.
				errs <- s.InTx(t.Context(), func(ctx context.Context) error { return j.Emit(ctx, e) })
			}
		}
		go write(person)
		go write(other)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{person, other} {
		rows := chainOf(t, s, p)
		if len(rows) != writers*each {
			t.Fatalf("%d entries, want %d", len(rows), writers*each)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			seen[r.Detail.Fields["n"]] = true
		}
		if len(seen) != writers*each {
			t.Errorf("%d distinct events, want %d: some were lost or written twice", len(seen), writers*each)
		}
	}
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() || rep.Entries != 2*writers*each {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

func testJournalUntouched(t *testing.T, s JournalStore, _ SQL) {
	j := journal.New(s, journal.Options{})
	keys, v := journalKeys(t, s)
	emitN(t, j, "a", 4)
	emitN(t, j, "b", 2)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	emitN(t, j, "b", 2)
	emitN(t, j, "c", 1)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	emitN(t, j, "a", 1) // after the last checkpoint
	rep, err := journal.Verify(t.Context(), s, v, "")
	if err != nil || !rep.OK() || rep.Chains != 3 || rep.Entries != 10 || rep.Checkpoints != 2 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
	x, err := journal.BuildExport(t.Context(), s, "b", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if xr := journal.VerifyExport(x, v); xr.Failure != nil || xr.Checkpoint != 2 || xr.SignedUpTo != 4 {
		t.Errorf("export of b: %+v", xr)
	}
}

func testJournalTamper(t *testing.T, s JournalStore, exec SQL) {
	// Each case starts from its own journal: three chains of six entries,
	// checkpointed. The chain tampered with is "p".
	tests := []struct {
		name  string
		sql   []string
		chain string
		seq   int64
		kind  journal.Kind
	}{
		{"a field edited", []string{`UPDATE journal_entries SET actor_id = 'intrus' WHERE chain = 'p' AND seq = 3`}, "p", 3, journal.Edited},
		{"a detail edited", []string{`UPDATE journal_details SET detail = '{"n":"9"}' WHERE chain = 'p' AND seq = 2`}, "p", 2, journal.Edited},
		{"an entry deleted", []string{`DELETE FROM journal_entries WHERE chain = 'p' AND seq = 3`}, "p", 3, journal.Deleted},
		{"two entries reordered", []string{
			`UPDATE journal_entries SET seq = 1000 WHERE chain = 'p' AND seq = 3`,
			`UPDATE journal_entries SET seq = 3 WHERE chain = 'p' AND seq = 4`,
			`UPDATE journal_entries SET seq = 4 WHERE chain = 'p' AND seq = 1000`,
		}, "p", 3, journal.Reordered},
		{"an entry inserted", []string{
			`UPDATE journal_entries SET seq = seq + 1000 WHERE chain = 'p' AND seq >= 3`,
			`UPDATE journal_entries SET seq = seq - 999 WHERE chain = 'p' AND seq >= 1000`,
			`INSERT INTO journal_entries (chain, seq, type, at, actor_id, organisation_id, person_id, representation_id, client_id, areas,
				detail_hash, prev_hash, hash) SELECT chain, 3, type, at, 'intrus', organisation_id, person_id, representation_id, client_id,
				areas, detail_hash, hash, hash FROM journal_entries WHERE chain = 'p' AND seq = 2`,
		}, "p", 3, journal.Inserted},
		{"a chain's tail truncated", []string{`DELETE FROM journal_entries WHERE chain = 'p' AND seq >= 5`}, "p", 5, journal.Truncated},
		{"a whole chain dropped", []string{`DELETE FROM journal_entries WHERE chain = 'p'`}, "p", 0, journal.ChainDropped},
		{"a checkpoint's root edited", []string{`UPDATE journal_checkpoints SET root = prev`}, "", 0, journal.CheckpointEdited},
		{"a chain dropped with its checkpoint heads", []string{
			`DELETE FROM journal_checkpoint_heads WHERE chain = 'p'`,
			`DELETE FROM journal_entries WHERE chain = 'p'`,
		}, "", 0, journal.CheckpointEdited},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if i > 0 {
				// A fresh store per case would be cleaner but slow on
				// PostgreSQL: clear this one instead.
				for _, q := range []string{`DELETE FROM journal_checkpoint_heads`, `DELETE FROM journal_checkpoints`,
					`DELETE FROM journal_details`, `DELETE FROM journal_entries`} {
					exec(t, q)
				}
			}
			j := journal.New(s, journal.Options{})
			keys, v := journalKeys(t, s)
			for _, c := range []string{"o", "p", "q"} {
				emitN(t, j, c, 6)
			}
			if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
				t.Fatal(err)
			}
			if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() {
				t.Fatalf("before tampering: %v, %v", rep.Failure, err)
			}
			for _, q := range tt.sql {
				exec(t, q)
			}
			rep, err := journal.Verify(t.Context(), s, v, "")
			if err != nil {
				t.Fatal(err)
			}
			f := rep.Failure
			if f == nil {
				t.Fatal("verification passed")
			}
			if f.Chain != tt.chain || f.Seq != tt.seq || f.Kind != tt.kind {
				t.Errorf("failure %q, want chain %q entry %d %s", f, tt.chain, tt.seq, tt.kind)
			}
			if tt.chain != "" {
				// Checking only that person names the same failure.
				one, err := journal.Verify(t.Context(), s, v, tt.chain)
				if err != nil || one.Failure == nil || one.Failure.Kind != tt.kind {
					t.Errorf("verify %s alone: %v, %v", tt.chain, one.Failure, err)
				}
				if other, _ := journal.Verify(t.Context(), s, v, "q"); !other.OK() {
					t.Errorf("verify q alone: %v", other.Failure)
				}
			}
		})
	}
}

// teeSink records into the journal, then into the test's recorder.
type teeSink struct {
	journal  *journal.Journal
	recorder *recorder
}

func (s teeSink) Emit(ctx context.Context, e mandates.Event) error {
	if err := s.journal.Emit(ctx, e); err != nil {
		return err
	}
	return s.recorder.Emit(ctx, e)
}

// testJournalService runs op with the journal as the service's sink and
// checks each event is in its chain, in order; it returns the types seen.
func testJournalService(t *testing.T, s JournalStore, op func(*testing.T, *world)) []mandates.EventType {
	rec := &recorder{}
	j := journal.New(s, journal.Options{})
	w := newWorldWith(t, s, teeSink{j, rec})
	o, err := w.svc.CreateOrganisation(t.Context(), w.op(), mandates.Organisation{Name: "CCAS de Villeurbanne", Kind: mandates.OrgCCAS, Address: orgAddress}, w.admin)
	if err != nil {
		t.Fatal(err)
	}
	op(t, w)
	byChain := map[string][]mandates.Event{}
	var types []mandates.EventType
	for _, e := range rec.events {
		c := journal.ChainOf(e)
		byChain[c] = append(byChain[c], e)
		types = append(types, e.Type)
	}
	for c, events := range byChain {
		rows := chainOf(t, s, c)
		if len(rows) != len(events) {
			t.Errorf("chain %s: %d entries for %d events", c, len(rows), len(events))
			continue
		}
		for i, e := range events {
			r := rows[i]
			if r.Type != e.Type || r.ActorID != e.ActorID || r.PersonID != e.PersonID || r.RepresentationID != e.RepresentationID ||
				r.OrganisationID != e.OrganisationID || !r.At.Equal(e.At) || len(r.Detail.Fields) != len(e.Detail) {
				t.Errorf("chain %s entry %d: %+v, want %+v", c, i+1, r.Entry, e)
			}
		}
	}
	if len(byChain["org:"+o.ID]) != 1 || len(byChain[w.admin]) != 2 {
		t.Errorf("the organisation's chain has %d entries, its admin's %d", len(byChain["org:"+o.ID]), len(byChain[w.admin]))
	}
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() {
		t.Errorf("verify: %v, %v", rep.Failure, err)
	}
	return types
}

// newWorldWith is newWorld with the service's events going to sink, whose
// recorder the world's tests read.
func newWorldWith(t *testing.T, st ServiceStore, sink teeSink) *world {
	t.Helper()
	return buildWorld(t, st, sink, sink.recorder)
}

// JournalBenchSize is the journal MeasureJournalVerify writes:
// RELAIS_JOURNAL_BENCH entries, or 20,000 (a test's worth) without it.
func JournalBenchSize() int {
	if n, err := strconv.Atoi(os.Getenv("RELAIS_JOURNAL_BENCH")); err == nil && n > 0 {
		return n
	}
	return 20_000
}

// MeasureJournalVerify fills s with n entries in chains of perChain, signs
// a checkpoint and times a full verification; it returns the seconds per
// million entries. Stores run it from a test, on JournalBenchSize entries.
func MeasureJournalVerify(t *testing.T, s JournalStore, n, perChain int) float64 {
	t.Helper()
	ctx := t.Context()
	const batch = 5000
	start := time.Now()
	var head *journal.Entry
	chain := ""
	for done := 0; done < n; {
		err := s.InTx(ctx, func(ctx context.Context) error {
			for i := 0; i < batch && done < n; i, done = i+1, done+1 {
				if done%perChain == 0 {
					chain, head = mandates.NewID(time.Now()), nil
				}
				e := journalEvent(chain, done%perChain)
				d := journal.NewDetail(e.Detail)
				next := journal.Next(head, chain, e, journal.DetailHash(d.Salt, d.Fields))
				if err := s.AppendJournal(ctx, next, d); err != nil {
					return err
				}
				head = &next
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d entries in %d chains in %s", n, (n+perChain-1)/perChain, time.Since(start).Round(time.Millisecond))
	keys, v := journalKeys(t, s)
	start = time.Now()
	if _, err := journal.MakeCheckpoint(ctx, s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("checkpoint over %d chains in %s", (n+perChain-1)/perChain, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	cpu0 := cpuTime()
	rep, err := journal.Verify(ctx, s, v, "")
	took, cpu := time.Since(start), cpuTime()-cpu0
	if err != nil || !rep.OK() || rep.Entries != int64(n) {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	perMillion := took.Seconds() / float64(n) * 1e6
	t.Logf("verified %d entries in %s: %.1f s per million entries (this process's CPU: %.1f s per million)",
		n, took.Round(time.Millisecond), perMillion, cpu.Seconds()/float64(n)*1e6)
	return perMillion
}

// cpuTime is the CPU time this process used so far (user and system): on
// a busy machine it says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func testJournalCheckpointSummary(t *testing.T, s JournalStore, exec SQL) {
	if _, _, err := s.LastCheckpoint(t.Context()); !errors.Is(err, mandates.ErrNotFound) {
		t.Fatalf("no checkpoint yet: %v, want ErrNotFound", err)
	}
	j := journal.New(s, journal.Options{})
	keys, v := journalKeys(t, s)
	emitN(t, j, "a", 3)
	emitN(t, j, "b", 1)
	for range 2 {
		if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
			t.Fatal(err)
		}
		emitN(t, j, "b", 2)
		emitN(t, j, "c", 1)
	}
	cps, err := s.Checkpoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	last, heads, err := s.LastCheckpoint(t.Context())
	if err != nil || last.Number != 2 || last.JWS != cps[1].JWS || last.Root != cps[1].Root || len(last.Heads) != 0 {
		t.Fatalf("last checkpoint: %+v, %v", last, err)
	}
	replayed := map[string]journal.Head{}
	for _, c := range cps {
		for _, h := range c.Heads {
			replayed[h.Chain] = h
		}
	}
	got := map[string]journal.Head{}
	for _, h := range heads {
		got[h.Chain] = h
	}
	if !maps.Equal(got, replayed) {
		t.Errorf("heads kept %v, replayed %v", got, replayed)
	}
	if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() || rep.Uncovered != 3 {
		t.Fatalf("verify: %+v, %v; want it to verify with 3 entries not covered", rep, err)
	}
	// The cover edited behind the store's back: no checkpoint is signed
	// on it.
	exec(t, `UPDATE journal_checkpointed_heads SET seq = 1 WHERE chain = 'b'`)
	_, err = journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{})
	var f *journal.Failure
	if !errors.As(err, &f) || f.Kind != journal.CheckpointEdited || f.Checkpoint != 2 {
		t.Errorf("checkpoint over an edited cover: %v", err)
	}
}
