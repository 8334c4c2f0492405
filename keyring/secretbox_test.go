package keyring_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/relais-fr/relais/keyring"
)

func newBox(t *testing.T) *keyring.SecretBox {
	t.Helper()
	key := make([]byte, keyring.SecretKeySize)
	_, _ = rand.Read(key)
	b, err := keyring.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSecretBox(t *testing.T) {
	box, other := newBox(t), newBox(t)
	secret := []byte("-----a private key, in PKCS #8-----")
	sealed := box.Seal("kid-1", secret)

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name   string
		box    *keyring.SecretBox
		id     string
		sealed []byte
		want   error
	}{
		{"the same key and id open what was sealed", box, "kid-1", sealed, nil},
		{"another secret key is named as such", other, "kid-1", sealed, keyring.ErrWrongSecretKey},
		{"a value moved to another record does not open", box, "kid-2", sealed, keyring.ErrSealedCorrupt},
		{"a changed ciphertext byte does not open", box, "kid-1", flip(len(sealed) - 20), keyring.ErrSealedCorrupt},
		{"a changed nonce does not open", box, "kid-1", flip(6), keyring.ErrSealedCorrupt},
		{"an unknown format version does not open", box, "kid-1", append([]byte{9}, sealed[1:]...), keyring.ErrSealedCorrupt},
		{"a cut value does not open", box, "kid-1", sealed[:20], keyring.ErrSealedCorrupt},
		{"nothing does not open", box, "kid-1", nil, keyring.ErrSealedCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.id, tt.sealed)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
			if tt.want == nil && !bytes.Equal(got, secret) {
				t.Errorf("Open = %q, want %q", got, secret)
			}
			if tt.want != nil && got != nil {
				t.Errorf("Open returned %d bytes with an error", len(got))
			}
		})
	}

	t.Run("each seal uses a fresh nonce", func(t *testing.T) {
		if bytes.Equal(box.Seal("kid-1", secret), box.Seal("kid-1", secret)) {
			t.Error("two seals of the same value are equal")
		}
	})
	t.Run("the plaintext does not appear in the sealed value", func(t *testing.T) {
		if bytes.Contains(sealed, secret[5:20]) {
			t.Error("sealed value contains the plaintext")
		}
	})
	t.Run("a key of the wrong size is refused", func(t *testing.T) {
		for _, n := range []int{0, 16, 31, 33, 64} {
			if _, err := keyring.NewSecretBox(make([]byte, n)); err == nil {
				t.Errorf("NewSecretBox(%d bytes) succeeded", n)
			}
		}
	})
}

// A box derived for one purpose seals under its own key: what it seals
// does not open in the box it came from, nor in one derived for another
// purpose, and the same purpose derived again opens it (another instance
// with the same RELAIS_SECRET_KEY).
func TestADerivedBoxSealsUnderItsOwnKey(t *testing.T) {
	key := make([]byte, keyring.SecretKeySize)
	for i := range key {
		key[i] = byte(i)
	}
	root, err := keyring.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	forms := root.Derive("kept forms")
	sealed := forms.Seal("/espace", []byte("karim@example.fr"))
	if _, err := root.Open("/espace", sealed); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("the root box opened a derived box's value: %v", err)
	}
	if _, err := root.Derive("other").Open("/espace", sealed); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("another purpose opened it: %v", err)
	}
	again, _ := keyring.NewSecretBox(key)
	if got, err := again.Derive("kept forms").Open("/espace", sealed); err != nil || string(got) != "karim@example.fr" {
		t.Errorf("the same purpose derived again: %q, %v", got, err)
	}
	if _, err := forms.Open("/espace", root.Seal("/espace", []byte("x"))); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("the derived box opened the root's value: %v", err)
	}
}
