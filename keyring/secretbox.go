package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// SecretKeySize is the length of the key that encrypts secrets at rest
// (RELAIS_SECRET_KEY): AES-256 needs 32 bytes.
const SecretKeySize = 32

var (
	// ErrWrongSecretKey: the data was sealed under another secret key, so
	// RELAIS_SECRET_KEY is not the one this store was written with.
	ErrWrongSecretKey = errors.New("keyring: sealed with another secret key")
	// ErrSealedCorrupt: the data names this secret key but does not open:
	// it was altered, cut, or moved to another record.
	ErrSealedCorrupt = errors.New("keyring: sealed data altered or moved to another record")
)

// sealVersion is the first byte of every sealed value, so the format can
// change without guessing what old rows hold.
const sealVersion byte = 1

const keyTagSize = 4

// SecretBox encrypts secrets at rest (private signing keys, later TOTP
// seeds) under RELAIS_SECRET_KEY (DESIGN.md §6). A sealed value is
// version (1 byte) | key tag (4) | nonce (12) | AES-256-GCM ciphertext.
type SecretBox struct {
	aead cipher.AEAD
	tag  [keyTagSize]byte
	key  []byte // kept only to derive boxes for other purposes (Derive)
}

// NewSecretBox takes the 32-byte secret key.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("secret key: %d bytes, want %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	b := &SecretBox{aead: aead, key: bytes.Clone(key)}
	// The tag tells a wrong key from altered data. It is derived, never the
	// key itself, and 32 bits say nothing useful about the key.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("relais secret box key tag v1"))
	copy(b.tag[:], mac.Sum(nil))
	return b, nil
}

// Derive is a box for one purpose under a key derived from this one
// (HKDF-SHA-256, RFC 5869, with the purpose as info): values sealed for a
// purpose that anyone can trigger (a form kept for a visitor) never share
// a key, nor its nonce budget, with the secrets at rest. Every instance
// with the same secret key derives the same box.
func (b *SecretBox) Derive(purpose string) *SecretBox {
	sub, err := hkdf.Key(sha256.New, b.key, nil, "relais secret box: "+purpose, SecretKeySize)
	if err != nil {
		panic(fmt.Sprintf("keyring: derive a %d-byte key: %v", SecretKeySize, err)) // only for lengths HKDF cannot give
	}
	d, err := NewSecretBox(sub)
	if err != nil {
		panic(fmt.Sprintf("keyring: a derived key of %d bytes: %v", SecretKeySize, err))
	}
	return d
}

// header is what comes before the nonce.
func (b *SecretBox) header() []byte {
	return append([]byte{sealVersion}, b.tag[:]...)
}

// Seal encrypts plaintext for the record named by id. The id is
// authenticated (GCM additional data), so a value copied onto another
// record does not open there.
func (b *SecretBox) Seal(id string, plaintext []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+).
	// A random 96-bit nonce is safe for far more than the few thousand
	// values one key seals (NIST SP 800-38D §8.3).
	out := append(b.header(), nonce...)
	return b.aead.Seal(out, nonce, plaintext, additional(out[:1+keyTagSize], id))
}

// Open decrypts what Seal returned for the same id.
func (b *SecretBox) Open(id string, sealed []byte) ([]byte, error) {
	head := 1 + keyTagSize
	switch {
	case len(sealed) < head+b.aead.NonceSize()+b.aead.Overhead():
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrSealedCorrupt, len(sealed))
	case sealed[0] != sealVersion:
		return nil, fmt.Errorf("%w: unknown format version %d", ErrSealedCorrupt, sealed[0])
	case !hmac.Equal(sealed[1:head], b.tag[:]):
		return nil, ErrWrongSecretKey
	}
	nonce := sealed[head : head+b.aead.NonceSize()]
	plain, err := b.aead.Open(nil, nonce, sealed[head+len(nonce):], additional(sealed[:head], id))
	if err != nil {
		return nil, ErrSealedCorrupt
	}
	return plain, nil
}

// additional binds the header and the record id into the GCM tag, so
// neither can be swapped without Open failing.
func additional(header []byte, id string) []byte {
	return append(append([]byte{}, header...), id...)
}
