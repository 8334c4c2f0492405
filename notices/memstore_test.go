package notices_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// memStore is an outbox in memory for the unit tests, with the rules the
// real stores share (ApplyRecord, ApplyHandOver). One goroutine at a time.
type memStore struct {
	byID  map[string]notices.Notice
	order []string // creation order
	// events are what the sink of the same transaction received.
	events []mandates.Event
	// failCreate makes CreateNotice fail.
	failCreate error
	// reps and persons answer the Notifier's reads.
	reps    map[string]mandates.Representation
	persons map[string]mandates.Person
}

func newMemStore() *memStore {
	return &memStore{byID: map[string]notices.Notice{}, reps: map[string]mandates.Representation{}, persons: map[string]mandates.Person{}}
}

var _ notices.Store = (*memStore)(nil)

type memTx struct{}

func (m *memStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if ctx.Value(memTx{}) != nil {
		return fn(ctx)
	}
	saved, order, events := maps.Clone(m.byID), slices.Clone(m.order), slices.Clone(m.events)
	if err := fn(context.WithValue(ctx, memTx{}, true)); err != nil {
		m.byID, m.order, m.events = saved, order, events
		return err
	}
	return nil
}

// Emit is the journal of the tests: it keeps the event in the store, so a
// rolled back transaction loses it.
func (m *memStore) Emit(_ context.Context, e mandates.Event) error {
	m.events = append(m.events, e)
	return nil
}

func (m *memStore) CreateNotice(_ context.Context, n notices.Notice) error {
	if m.failCreate != nil {
		return m.failCreate
	}
	if err := n.Validate(); err != nil {
		return err
	}
	if _, ok := m.byID[n.ID]; ok {
		return &mandates.UniqueError{Entity: "notice", Field: "id"}
	}
	for _, o := range m.byID {
		if n.FallbackOf != "" && o.FallbackOf == n.FallbackOf {
			return &mandates.UniqueError{Entity: "notice", Field: "fallback_of"}
		}
	}
	n.Version = 1
	m.byID[n.ID] = n
	m.order = append(m.order, n.ID)
	return nil
}

func (m *memStore) Notice(_ context.Context, id string) (notices.Notice, error) {
	n, ok := m.byID[id]
	if !ok {
		return n, mandates.ErrNotFound
	}
	return n, nil
}

func (m *memStore) Claim(_ context.Context, owner string, channels []notices.Channel, now time.Time, lease time.Duration, limit int) ([]notices.Notice, error) {
	if err := notices.CheckClaim(owner, lease, limit); err != nil {
		return nil, err
	}
	chans := notices.Electronic(channels)
	var out []notices.Notice
	for _, id := range m.order {
		n := m.byID[id]
		if len(out) == limit {
			break
		}
		if n.Status != notices.Pending || !slices.Contains(chans, string(n.Channel)) || n.NextAttemptAt.After(now) ||
			(!n.LeaseUntil.IsZero() && n.LeaseUntil.After(now)) {
			continue
		}
		n.LeaseOwner, n.LeaseUntil, n.Version = owner, now.Add(lease), n.Version+1
		m.byID[id] = n
		out = append(out, n)
	}
	return out, nil
}

func (m *memStore) Record(_ context.Context, held notices.Notice, fn func(*notices.Notice) error) (notices.Notice, error) {
	old, ok := m.byID[held.ID]
	if !ok {
		return old, mandates.ErrNotFound
	}
	n, err := notices.ApplyRecord(old, held, fn)
	if err != nil {
		return old, err
	}
	m.byID[n.ID] = n
	return n, nil
}

func (m *memStore) NoticesOf(_ context.Context, personID string, limit int) ([]notices.Notice, error) {
	var out []notices.Notice
	for _, id := range slices.Backward(m.order) {
		if n := m.byID[id]; n.PersonID == personID && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

func (m *memStore) ToPrint(_ context.Context, limit int) ([]notices.Notice, error) {
	var out []notices.Notice
	for _, id := range m.order {
		if n := m.byID[id]; n.Channel == notices.Paper && n.Status == notices.Pending && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

func (m *memStore) MarkHandedOver(ctx context.Context, ids []string, at time.Time) error {
	return m.InTx(ctx, func(ctx context.Context) error {
		for _, id := range notices.Distinct(ids) {
			old, ok := m.byID[id]
			if !ok {
				return mandates.ErrNotFound
			}
			n, err := notices.ApplyHandOver(old, at)
			if err != nil {
				return err
			}
			m.byID[id] = n
		}
		return nil
	})
}

// The Notifier's reads.

func (m *memStore) Representation(_ context.Context, id string) (mandates.Representation, error) {
	r, ok := m.reps[id]
	if !ok {
		return r, mandates.ErrNotFound
	}
	return r, nil
}

func (m *memStore) Person(_ context.Context, id string) (mandates.Person, error) {
	p, ok := m.persons[id]
	if !ok {
		return p, mandates.ErrNotFound
	}
	return p, nil
}

// all lists the stored notices in creation order.
func (m *memStore) all() []notices.Notice {
	out := make([]notices.Notice, 0, len(m.order))
	for _, id := range m.order {
		out = append(out, m.byID[id])
	}
	return out
}

var errBoom = errors.New("boom")

// lockedStore lets a dispatcher's goroutine and the test share a
// memStore: each call holds the lock. Transactions are not locked (the
// test that uses it sends nothing that falls back).
type lockedStore struct {
	mu sync.Mutex
	*memStore
}

func (l *lockedStore) CreateNotice(ctx context.Context, n notices.Notice) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.memStore.CreateNotice(ctx, n)
}

func (l *lockedStore) Claim(ctx context.Context, owner string, channels []notices.Channel, now time.Time, lease time.Duration, limit int) ([]notices.Notice, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.memStore.Claim(ctx, owner, channels, now, lease, limit)
}

func (l *lockedStore) Record(ctx context.Context, held notices.Notice, fn func(*notices.Notice) error) (notices.Notice, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.memStore.Record(ctx, held, fn)
}
