package journal_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenEntry is fixed forever: its encoding and hash are in testdata, so
// a change to the encoding that would break stored chains fails here.
func goldenEntry() (journal.Entry, journal.Detail) {
	d := journal.Detail{Salt: []byte("0123456789abcdef"), Fields: map[string]string{"kind": "tutelle", "reason": "décision du juge"}}
	e := journal.Entry{
		Chain: "0190b6a1-7c3e-7b2a-9f00-0a1b2c3d4e5f", Seq: 2, Type: mandates.EventCreated,
		At:      time.Date(2026, 3, 3, 14, 5, 0, 123e6, time.UTC),
		ActorID: "0190b6a1-0000-7000-8000-000000000001", OrganisationID: "0190b6a1-0000-7000-8000-000000000002",
		PersonID: "0190b6a1-7c3e-7b2a-9f00-0a1b2c3d4e5f", RepresentationID: "0190b6a1-0000-7000-8000-000000000003",
		ClientID: "caf", Areas: []mandates.Area{"social", "argent"},
		DetailHash: journal.DetailHash(d.Salt, d.Fields), Prev: sha256.Sum256([]byte("prev")),
	}
	e.Hash = e.ComputeHash()
	return e, d
}

func TestEncodingIsStable(t *testing.T) {
	e, _ := goldenEntry()
	got := fmt.Sprintf("encoding %s\ndetail_hash %s\nhash %s\n", hex.EncodeToString(e.Encode()), e.DetailHash, e.Hash)
	path := filepath.Join("testdata", "entry_v1.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("version 1 encoding changed:\n got  %s\n want %s", got, want)
	}
}

func TestEncodingIsUnambiguous(t *testing.T) {
	base, _ := goldenEntry()
	tests := []struct {
		name string
		edit func(*journal.Entry)
	}{
		{"text moved from one field to the next", func(e *journal.Entry) { e.ActorID, e.OrganisationID = e.ActorID+"x", e.OrganisationID[1:] }},
		{"an area split in two", func(e *journal.Entry) { e.Areas = []mandates.Area{"soc", "ial", "argent"} }},
		{"a millisecond later", func(e *journal.Entry) { e.At = e.At.Add(time.Millisecond) }},
		{"another sequence number", func(e *journal.Entry) { e.Seq = 3 }},
		{"another previous hash", func(e *journal.Entry) { e.Prev[0] ^= 1 }},
		{"another client", func(e *journal.Entry) { e.ClientID = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.Areas = append([]mandates.Area(nil), base.Areas...)
			tt.edit(&e)
			if e.ComputeHash() == base.Hash {
				t.Error("two different entries hash the same")
			}
		})
	}
	if journal.DetailHash([]byte("s"), map[string]string{"a": "bc"}) == journal.DetailHash([]byte("s"), map[string]string{"ab": "c"}) {
		t.Error("two different details hash the same")
	}
}

func TestChainOf(t *testing.T) {
	tests := []struct {
		name string
		e    mandates.Event
		want string
	}{
		{"a person's event goes to their chain", mandates.Event{PersonID: "p1", OrganisationID: "o1"}, "p1"},
		{"an organisation's event without a person goes to the organisation's chain", mandates.Event{OrganisationID: "o1"}, "org:o1"},
		{"an administrative event goes to the admin chain", mandates.Event{ActorID: "a"}, "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := journal.ChainOf(tt.e); got != tt.want {
				t.Errorf("ChainOf = %q, want %q", got, tt.want)
			}
		})
	}
}

var t0 = time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC)

func event(person string, i int) mandates.Event {
	return mandates.Event{Type: mandates.EventActivated, At: t0.Add(time.Duration(i) * time.Minute), ActorID: "actor", PersonID: person,
		RepresentationID: "rep", Detail: map[string]string{"n": fmt.Sprint(i)}}
}

func TestEmitBuildsAChain(t *testing.T) {
	st := newMemStore()
	j := journal.New(st, journal.Options{})
	for i := range 3 {
		if err := j.Emit(t.Context(), event("p1", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Emit(t.Context(), event("p2", 0)); err != nil {
		t.Fatal(err)
	}
	rows := st.entries["p1"]
	if len(rows) != 3 {
		t.Fatalf("p1 has %d entries, want 3", len(rows))
	}
	var prev journal.Hash
	for i, r := range rows {
		if r.Seq != int64(i+1) || r.Prev != prev || r.Hash != r.ComputeHash() {
			t.Errorf("entry %d: seq %d, linked %v, hash ok %v", i, r.Seq, r.Prev == prev, r.Hash == r.ComputeHash())
		}
		if r.DetailHash != journal.DetailHash(r.Detail.Salt, r.Detail.Fields) || len(r.Detail.Salt) != 16 {
			t.Errorf("entry %d: detail not hashed with a 16-byte salt", i)
		}
		prev = r.Hash
	}
	if len(st.entries["p2"]) != 1 || st.entries["p2"][0].Seq != 1 {
		t.Errorf("p2's chain: %+v", st.entries["p2"])
	}
}

// racingStore makes the first append of each Emit lose the race, as if
// another instance had just written the same sequence number.
type racingStore struct {
	*memStore
	mu    sync.Mutex
	stole int
}

func (r *racingStore) AppendJournal(ctx context.Context, e journal.Entry, d journal.Detail) error {
	r.mu.Lock()
	steal := r.stole < 3
	r.mu.Unlock()
	if steal {
		r.mu.Lock()
		r.stole++
		r.mu.Unlock()
		other := journal.Next(headPtr(r.memStore, e.Chain), e.Chain, event(e.Chain, 99), journal.Hash{})
		if err := r.memStore.AppendJournal(ctx, other, journal.Detail{}); err != nil {
			return err
		}
	}
	return r.memStore.AppendJournal(ctx, e, d)
}

func headPtr(m *memStore, chain string) *journal.Entry {
	h, err := m.JournalHead(context.Background(), chain)
	if err != nil {
		return nil
	}
	return &h
}

func TestEmitRetriesWhenAnotherWriterTookTheNumber(t *testing.T) {
	st := &racingStore{memStore: newMemStore()}
	j := journal.New(st, journal.Options{})
	if err := j.Emit(t.Context(), event("p1", 0)); err != nil {
		t.Fatal(err)
	}
	rows := st.entries["p1"]
	if len(rows) != 4 || rows[3].Type != mandates.EventActivated || rows[3].Seq != 4 || rows[3].Prev != rows[2].Hash {
		t.Errorf("after three lost races: %d entries, last %+v", len(rows), rows[len(rows)-1].Entry)
	}
}

func TestEmitRefusesAnEventWithoutType(t *testing.T) {
	j := journal.New(newMemStore(), journal.Options{})
	if err := j.Emit(t.Context(), mandates.Event{PersonID: "p"}); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("Emit without type: %v, want ErrInvalid", err)
	}
}
