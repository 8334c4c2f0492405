package journal

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Hash is a SHA-256 digest. It is written as lower-case hex in JSON.
type Hash [sha256.Size]byte

// String is the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 2*len(h) {
		return fmt.Errorf("hash %q: want %d hex digits", b, 2*len(h))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// HashOf reads a hash stored as bytes.
func HashOf(b []byte) (Hash, error) {
	var h Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("stored hash of %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// Chain ids of events without a person (package comment).
const (
	AdminChain        = "admin"
	OrganisationChain = "org:"
)

// ChainOf names the chain an event belongs to: the person's id, or for an
// event without a person "org:<organisation id>" or "admin".
func ChainOf(e mandates.Event) string {
	switch {
	case e.PersonID != "":
		return e.PersonID
	case e.OrganisationID != "":
		return OrganisationChain + e.OrganisationID
	}
	return AdminChain
}

// Entry is one link of a chain, as stored.
type Entry struct {
	Chain            string             `json:"chain"`
	Seq              int64              `json:"seq"`
	Type             mandates.EventType `json:"type"`
	At               time.Time          `json:"at"`
	ActorID          string             `json:"actor_id,omitempty"`
	OrganisationID   string             `json:"organisation_id,omitempty"`
	PersonID         string             `json:"person_id,omitempty"`
	RepresentationID string             `json:"representation_id,omitempty"`
	ClientID         string             `json:"client_id,omitempty"`
	Areas            []mandates.Area    `json:"areas,omitempty"`
	DetailHash       Hash               `json:"detail_hash"`
	Prev             Hash               `json:"prev_hash"`
	Hash             Hash               `json:"hash"`
}

// Detail is an entry's personal detail, kept beside the chain. Once
// erased, Salt and Fields are gone and ErasedAt says when.
type Detail struct {
	Salt     []byte
	Fields   map[string]string
	ErasedAt time.Time
	Reason   string // why it was erased: ReasonErasure or ReasonRetention
}

// Erased says whether the detail was removed.
func (d *Detail) Erased() bool { return !d.ErasedAt.IsZero() }

// Why a detail was erased.
const (
	ReasonErasure   = "erasure"   // a lawful request (RGPD art. 17)
	ReasonRetention = "retention" // the end of the retention period
)

// Stored is an entry with its detail as read back; Detail is nil when the
// store has no detail row for it at all.
type Stored struct {
	Entry
	Detail *Detail
}

// Head is the last entry of a chain, as a checkpoint covers it.
type Head struct {
	Chain string `json:"chain"`
	Seq   int64  `json:"seq"`
	Hash  Hash   `json:"hash"`
}

// saltSize: 128 bits make an erased detail unguessable from its hash.
const saltSize = 16

// NewDetail is the detail of an event with a fresh salt.
func NewDetail(fields map[string]string) Detail {
	salt := make([]byte, saltSize)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+).
	return Detail{Salt: salt, Fields: fields}
}

func putU32(b *bytes.Buffer, v uint32) {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v)
	b.Write(a[:])
}

func putU64(b *bytes.Buffer, v uint64) {
	var a [8]byte
	binary.BigEndian.PutUint64(a[:], v)
	b.Write(a[:])
}

func putStr(b *bytes.Buffer, s string) {
	putU32(b, uint32(len(s)))
	b.WriteString(s)
}

// DetailHash is SHA-256 of the canonical encoding of a detail (package
// comment).
func DetailHash(salt []byte, fields map[string]string) Hash {
	var b bytes.Buffer
	b.WriteString("RJD1")
	putStr(&b, string(salt))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	putU32(&b, uint32(len(keys)))
	for _, k := range keys {
		putStr(&b, k)
		putStr(&b, fields[k])
	}
	return sha256.Sum256(b.Bytes())
}

// Encode is the canonical encoding of an entry, version 1 (package
// comment); its Hash field is not part of it.
func (e *Entry) Encode() []byte {
	var b bytes.Buffer
	b.Grow(256)
	b.WriteString("RJE1")
	putStr(&b, e.Chain)
	putU64(&b, uint64(e.Seq))
	putStr(&b, string(e.Type))
	putU64(&b, uint64(e.At.UnixMilli()))
	for _, s := range []string{e.ActorID, e.OrganisationID, e.PersonID, e.RepresentationID, e.ClientID} {
		putStr(&b, s)
	}
	putU32(&b, uint32(len(e.Areas)))
	for _, a := range e.Areas {
		putStr(&b, string(a))
	}
	b.Write(e.DetailHash[:])
	b.Write(e.Prev[:])
	return b.Bytes()
}

// ComputeHash is SHA-256 of the entry's encoding.
func (e *Entry) ComputeHash() Hash { return sha256.Sum256(e.Encode()) }

// hashAs is the hash the entry would have under sequence number seq: it
// tells a moved entry from an edited one.
func (e *Entry) hashAs(seq int64) Hash {
	c := *e
	c.Seq = seq
	return c.ComputeHash()
}

// Next builds the entry that follows head (nil for a chain's first) for
// the event e, whose detail hashes to dh, and computes its hash.
func Next(head *Entry, chain string, e mandates.Event, dh Hash) Entry {
	n := Entry{Chain: chain, Seq: 1, Type: e.Type, At: e.At.UTC().Truncate(time.Millisecond), ActorID: e.ActorID,
		OrganisationID: e.OrganisationID, PersonID: e.PersonID, RepresentationID: e.RepresentationID,
		ClientID: e.ClientID, Areas: slices.Clone(e.Areas), DetailHash: dh}
	if head != nil {
		n.Seq, n.Prev = head.Seq+1, head.Hash
	}
	n.Hash = n.ComputeHash()
	return n
}

// Head is the entry as a checkpoint covers it.
func (e *Entry) Head() Head { return Head{Chain: e.Chain, Seq: e.Seq, Hash: e.Hash} }
