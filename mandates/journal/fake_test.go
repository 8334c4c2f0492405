package journal_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// memStore is an in-memory journal.Store, for the rules alone.
type memStore struct {
	mu      sync.Mutex
	entries map[string][]journal.Stored // by chain, in seq order
	cps     []journal.Checkpoint
	reads   int // JournalHead calls
	lease   struct {
		holder string
		until  time.Time
	}
}

func newMemStore() *memStore { return &memStore{entries: map[string][]journal.Stored{}} }

func (m *memStore) JournalHead(_ context.Context, chain string) (journal.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	c := m.entries[chain]
	if len(c) == 0 {
		return journal.Entry{}, mandates.ErrNotFound
	}
	return c[len(c)-1].Entry, nil
}

func (m *memStore) AppendJournal(_ context.Context, e journal.Entry, d journal.Detail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.entries[e.Chain] {
		if s.Seq == e.Seq {
			return journal.ErrSeqTaken
		}
	}
	m.entries[e.Chain] = append(m.entries[e.Chain], journal.Stored{Entry: e, Detail: &d})
	return nil
}

// InTx implements mandates.Transactor: what fn wrote is undone when it
// fails. Transactions are not isolated from one another; the Batcher's
// single worker runs them one at a time.
func (m *memStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	m.mu.Lock()
	saved := maps.Clone(m.entries)
	for c, rows := range saved {
		saved[c] = slices.Clone(rows)
	}
	m.mu.Unlock()
	err := fn(ctx)
	if err != nil {
		m.mu.Lock()
		m.entries = saved
		m.mu.Unlock()
	}
	return err
}

func (m *memStore) chains() []string {
	return slices.Sorted(maps.Keys(m.entries))
}

func (m *memStore) JournalEntries(_ context.Context, chain string, fn func(journal.Stored) error) error {
	m.mu.Lock()
	var all []journal.Stored
	for _, c := range m.chains() {
		if chain == "" || c == chain {
			rows := slices.Clone(m.entries[c])
			slices.SortFunc(rows, func(a, b journal.Stored) int { return int(a.Seq - b.Seq) })
			all = append(all, rows...)
		}
	}
	m.mu.Unlock()
	for _, s := range all {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) JournalPage(_ context.Context, q journal.Query) ([]journal.Stored, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []journal.Stored
	for _, rows := range m.entries {
		for _, s := range rows {
			if (q.Chain == "" || s.Chain == q.Chain) && (q.OrganisationID == "" || s.OrganisationID == q.OrganisationID) &&
				(q.ActorID == "" || s.ActorID == q.ActorID) && (q.ClientID == "" || s.ClientID == q.ClientID) &&
				(q.Before.IsZero() || older(q.Chain, s.Position(), q.Before)) {
				all = append(all, s)
			}
		}
	}
	slices.SortFunc(all, func(a, b journal.Stored) int {
		if older(q.Chain, a.Position(), b.Position()) {
			return 1
		}
		return -1
	})
	return all[:min(len(all), q.PageLimit())], nil
}

// older orders as the stores do: one chain by sequence number, several by
// time, chain, then sequence number.
func older(chain string, a, b journal.Position) bool {
	if chain != "" {
		return a.Seq < b.Seq
	}
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	if a.Chain != b.Chain {
		return a.Chain < b.Chain
	}
	return a.Seq < b.Seq
}

func (m *memStore) JournalHeads(context.Context) ([]journal.Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []journal.Head
	for _, c := range m.chains() {
		if rows := m.entries[c]; len(rows) > 0 {
			out = append(out, rows[len(rows)-1].Head())
		}
	}
	return out, nil
}

func (m *memStore) EraseJournalDetails(_ context.Context, chain string, before, at time.Time, reason string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for c, rows := range m.entries {
		if chain != "" && c != chain {
			continue
		}
		for i := range rows {
			if d := rows[i].Detail; rows[i].At.Before(before) && !d.Erased() {
				rows[i].Detail = &journal.Detail{ErasedAt: at, Reason: reason}
				n++
			}
		}
	}
	return n, nil
}

func (m *memStore) CreateCheckpoint(_ context.Context, c journal.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.cps {
		if o.Number == c.Number {
			return &mandates.UniqueError{Entity: "checkpoint", Field: "number"}
		}
	}
	m.cps = append(m.cps, c)
	return nil
}

func (m *memStore) Checkpoints(context.Context) ([]journal.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.cps)
	for i := range out {
		out[i].Heads = slices.Clone(out[i].Heads)
	}
	return out, nil
}

func (m *memStore) AcquireJournalLease(_ context.Context, holder string, now, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease.holder != "" && m.lease.holder != holder && m.lease.until.After(now) {
		return false, nil
	}
	m.lease.holder, m.lease.until = holder, until
	return true, nil
}

// hmacSigner signs compact JWS with HS256: enough to test the rules; the
// real signer (authz) uses ES256 and the published JWK set.
type hmacSigner struct {
	kid string
	key []byte
}

func (s hmacSigner) Sign(_ context.Context, payload []byte) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": "HS256", "kid": s.kid, "typ": journal.PayloadType})
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

func (s hmacSigner) VerifyJWS(jws string) ([]byte, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errors.New("signature does not verify")
	}
	return base64.RawURLEncoding.DecodeString(parts[1])
}
