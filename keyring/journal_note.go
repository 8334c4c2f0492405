package keyring

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/relais-fr/relais/mandates/journal"
)

// NoteSigner signs the journal's checkpoint notes (C2SP signed-note,
// signature type 0x02: ECDSA P-256 over SHA-256 of the note text, ASN.1
// encoded) with the newest journal key, under the checkpoint origin as
// key name. The note text has newlines and a JWS signing input never
// does, so one key signing both cannot be made to sign one for the
// other.
type NoteSigner struct {
	keys   *JournalKeys
	origin string
}

var _ journal.NoteSigner = (*NoteSigner)(nil)

// NoteSigner returns the signer of checkpoint notes for origin.
func (j *JournalKeys) NoteSigner(origin string) *NoteSigner {
	return &NoteSigner{keys: j, origin: origin}
}

// SignNote implements journal.NoteSigner.
func (s *NoteSigner) SignNote(ctx context.Context, text string) (journal.NoteSignature, error) {
	// Signed only while every journal key is trusted, as checkpoints
	// are (JournalKeys.Sign).
	hist, err := s.keys.trusted(ctx)
	if err != nil {
		return journal.NoteSignature{}, err
	}
	if len(hist) == 0 {
		return journal.NoteSignature{}, errors.New("no journal key: relais serve creates it at start")
	}
	priv := hist[len(hist)-1].priv
	v, err := journal.ECDSANoteKey(s.origin, &priv.PublicKey)
	if err != nil {
		return journal.NoteSignature{}, err
	}
	sum := sha256.Sum256([]byte(text))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, sum[:])
	if err != nil {
		return journal.NoteSignature{}, fmt.Errorf("sign checkpoint note: %w", err)
	}
	return journal.NoteSignature{Name: v.Name, KeyID: v.KeyID, Sig: sig}, nil
}

// NoteKeys are the verifier keys (vkeys) of every journal key for
// origin, oldest first: what a witness is told to trust.
func (j *JournalKeys) NoteKeys(ctx context.Context, origin string) ([]journal.NoteVerifier, error) {
	pubs, err := j.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]journal.NoteVerifier, 0, len(pubs))
	for _, k := range pubs {
		ec, ok := k.Key.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("journal key %s is not an ECDSA key", k.KeyID)
		}
		v, err := journal.ECDSANoteKey(origin, ec)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
