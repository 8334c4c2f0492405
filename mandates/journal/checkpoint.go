package journal

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Checkpoint is a signed Merkle root over every chain head at one time.
type Checkpoint struct {
	Number   int64     // 1, 2, 3…
	At       time.Time // milliseconds, UTC
	TreeSize int64
	Root     Hash
	Prev     Hash   // SHA-256 of the previous checkpoint's payload; zero for the first
	KeyID    string // the journal key that signed it
	JWS      string // RFC 7515 compact serialisation; its payload is the Payload
	// Heads are the chain heads that changed since the previous
	// checkpoint (new chains included); replaying them from the first
	// checkpoint gives this one's tree.
	Heads []Head
}

// PayloadType is the JWS header "typ" and the payload's "typ" of a
// checkpoint: no token carries it, so a checkpoint is never taken for a
// token, nor a token for a checkpoint.
const PayloadType = "relais-journal-checkpoint"

// Payload is what a checkpoint's JWS signs.
type Payload struct {
	Typ      string    `json:"typ"` // PayloadType
	Version  int       `json:"v"`   // 1
	Number   int64     `json:"number"`
	At       time.Time `json:"at"`
	TreeSize int64     `json:"tree_size"`
	Root     Hash      `json:"root"`
	Prev     Hash      `json:"prev"`
}

// Signer signs a checkpoint's payload as a compact JWS with the journal
// key (keyring implements it).
type Signer interface {
	Sign(ctx context.Context, payload []byte) (jws string, err error)
}

// SignatureVerifier checks a compact JWS against the published journal
// keys and returns its payload (keyring implements it over a JWK set).
type SignatureVerifier interface {
	VerifyJWS(jws string) (payload []byte, err error)
}

// Anchor is a checkpoint the journal keys' history names: when a key is
// endorsed, its endorsement names the latest checkpoint then signed. The
// store cannot lose or replace that checkpoint unseen, so checkpoints
// deleted and numbered again from 1 are found even though each new one
// carries a good signature.
type Anchor struct {
	KeyID  string // the key whose endorsement names it
	Number int64
	Hash   Hash // the checkpoint's PayloadHash
}

// Anchored is a SignatureVerifier that also knows the checkpoints the
// journal keys' history names (keyring.JournalVerifier over the store's
// keys). Verify checks each is still stored, unchanged; a verifier made
// from a published JWK set alone has none.
type Anchored interface {
	SignatureVerifier
	Anchors() []Anchor
}

func (c *Checkpoint) payload() Payload {
	return Payload{Typ: PayloadType, Version: 1, Number: c.Number, At: c.At, TreeSize: c.TreeSize, Root: c.Root, Prev: c.Prev}
}

// jwsPayload reads the payload of a compact JWS without checking it.
func jwsPayload(jws string) ([]byte, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	return base64.RawURLEncoding.DecodeString(parts[1])
}

// jwsKeyID reads the kid of a compact JWS's protected header.
func jwsKeyID(jws string) string {
	head, _, _ := strings.Cut(jws, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(b, &h)
	return h.Kid
}

// PayloadHash is the SHA-256 of the payload c's JWS signs: what the next
// checkpoint's Prev holds, and what a journal key's history names.
func (c *Checkpoint) PayloadHash() (Hash, error) { return payloadHash(c) }

func payloadHash(c *Checkpoint) (Hash, error) {
	p, err := jwsPayload(c.JWS)
	if err != nil {
		return Hash{}, fmt.Errorf("checkpoint %d: %w", c.Number, err)
	}
	return sha256.Sum256(p), nil
}

// replay gives the full set of heads after each checkpoint in turn.
type replay struct {
	heads map[string]Head
}

func newReplay() *replay { return &replay{heads: map[string]Head{}} }

func (r *replay) apply(c *Checkpoint) {
	for _, h := range c.Heads {
		r.heads[h.Chain] = h
	}
}

func (r *replay) list() []Head {
	out := make([]Head, 0, len(r.heads))
	for _, h := range r.heads {
		out = append(out, h)
	}
	return out
}

// CheckpointOptions tune MakeCheckpoint.
type CheckpointOptions struct {
	Now func() time.Time
	// Always signs a checkpoint even when no chain changed since the last
	// one (relais journal checkpoint); otherwise nothing is written then.
	Always bool
}

// ErrNothingNew: no chain changed since the last checkpoint.
var ErrNothingNew = errors.New("journal: nothing new since the last checkpoint")

// CheckpointSummary is what a store keeps so that a checkpoint round
// need not replay every checkpoint since the first: the latest checkpoint
// (without its Heads) and every chain head it covers (storage/sqlite and
// storage/postgres keep them in journal_checkpointed_heads). None is
// mandates.ErrNotFound. MakeCheckpoint checks the heads give that
// checkpoint's signed root before it trusts them.
type CheckpointSummary interface {
	LastCheckpoint(ctx context.Context) (Checkpoint, []Head, error)
}

// lastCovered returns the latest checkpoint (nil if none) and the heads
// it covers, by chain.
func lastCovered(ctx context.Context, st Store) (*Checkpoint, map[string]Head, error) {
	sum, ok := st.(CheckpointSummary)
	if !ok {
		cps, err := st.Checkpoints(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("checkpoint: read checkpoints: %w", err)
		}
		r := newReplay()
		for i := range cps {
			r.apply(&cps[i])
		}
		if len(cps) == 0 {
			return nil, r.heads, nil
		}
		return &cps[len(cps)-1], r.heads, nil
	}
	last, heads, err := sum.LastCheckpoint(ctx)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return nil, map[string]Head{}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("checkpoint: read the last checkpoint: %w", err)
	}
	raw, err := jwsPayload(last.JWS)
	var p Payload
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	tree := NewTree(heads)
	if err != nil || tree.Size() != p.TreeSize || tree.Root() != p.Root {
		return nil, nil, &Failure{Checkpoint: last.Number, Kind: CheckpointEdited,
			Reason: "the chain heads stored as its cover do not give its signed root"}
	}
	byChain := make(map[string]Head, len(heads))
	for _, h := range heads {
		byChain[h.Chain] = h
	}
	return &last, byChain, nil
}

// MakeCheckpoint signs and stores the next checkpoint over every chain
// head. It refuses to sign a state where a chain the last checkpoint
// covered went missing or went back: that is tampering to report, not to
// seal. With a CheckpointSummary its reading does not grow with the
// number of checkpoints.
func MakeCheckpoint(ctx context.Context, st Store, signer Signer, opt CheckpointOptions) (Checkpoint, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	last, covered, err := lastCovered(ctx, st)
	if err != nil {
		return Checkpoint{}, err
	}
	r := &replay{heads: covered}
	heads, err := st.JournalHeads(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: read heads: %w", err)
	}
	now := make(map[string]Head, len(heads))
	var delta []Head
	for _, h := range heads {
		now[h.Chain] = h
		old, ok := r.heads[h.Chain]
		switch {
		case !ok || old.Seq < h.Seq:
			delta = append(delta, h)
		case old.Seq > h.Seq:
			return Checkpoint{}, &Failure{Chain: h.Chain, Seq: old.Seq, Checkpoint: last.Number, Kind: Truncated,
				Reason: fmt.Sprintf("checkpoint %d covers entry %d, the chain now ends at entry %d", last.Number, old.Seq, h.Seq)}
		case old.Hash != h.Hash:
			return Checkpoint{}, &Failure{Chain: h.Chain, Seq: h.Seq, Checkpoint: last.Number, Kind: Edited,
				Reason: fmt.Sprintf("entry %d differs from the one checkpoint %d signed", h.Seq, last.Number)}
		}
	}
	for chain, old := range r.heads {
		if _, ok := now[chain]; !ok {
			return Checkpoint{}, &Failure{Chain: chain, Seq: old.Seq, Checkpoint: last.Number, Kind: ChainDropped,
				Reason: fmt.Sprintf("checkpoint %d covers it up to entry %d; no entry of it remains", last.Number, old.Seq)}
		}
	}
	c := Checkpoint{Number: 1, At: opt.Now().UTC().Truncate(time.Millisecond), Heads: delta}
	if last != nil {
		if len(delta) == 0 && !opt.Always {
			return *last, ErrNothingNew
		}
		c.Number = last.Number + 1
		if c.Prev, err = payloadHash(last); err != nil {
			return Checkpoint{}, err
		}
	}
	tree := NewTree(heads)
	c.TreeSize, c.Root = tree.Size(), tree.Root()
	payload, err := json.Marshal(c.payload())
	if err != nil {
		return Checkpoint{}, err
	}
	if c.JWS, err = signer.Sign(ctx, payload); err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint %d: sign: %w", c.Number, err)
	}
	c.KeyID = jwsKeyID(c.JWS)
	if err := st.CreateCheckpoint(ctx, c); err != nil {
		if errors.Is(err, mandates.ErrAlreadyExists) {
			return Checkpoint{}, fmt.Errorf("checkpoint %d was written by another instance at the same time: %w", c.Number, mandates.ErrConflict)
		}
		return Checkpoint{}, fmt.Errorf("checkpoint %d: %w", c.Number, err)
	}
	return c, nil
}

// checkSigned verifies a checkpoint's signature and that its row says
// what was signed, and returns the payload's hash.
func checkSigned(c *Checkpoint, v SignatureVerifier) (Hash, *Failure) {
	fail := func(kind Kind, format string, args ...any) (Hash, *Failure) {
		return Hash{}, &Failure{Checkpoint: c.Number, Kind: kind, Reason: fmt.Sprintf(format, args...)}
	}
	raw, err := v.VerifyJWS(c.JWS)
	if err != nil {
		return fail(BadSignature, "its signature does not verify with the published journal keys: %v", err)
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return fail(BadSignature, "its signed payload is not a checkpoint: %v", err)
	}
	switch {
	case p.Typ != PayloadType || p.Version != 1:
		return fail(BadSignature, "its signed payload is not a version 1 checkpoint")
	case p.Number != c.Number || !p.At.Equal(c.At) || p.TreeSize != c.TreeSize || p.Root != c.Root || p.Prev != c.Prev:
		return fail(CheckpointEdited, "its stored number, time, size, root or link differ from what was signed")
	}
	return sha256.Sum256(raw), nil
}
