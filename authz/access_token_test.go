package authz

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/keyring/keyringtest"
)

// A verified access token is remembered; its expiry is still checked at
// each use, and a token never verified is verified, not remembered.
func TestVerifiedAccessTokensAreRemembered(t *testing.T) {
	key := make([]byte, keyring.SecretKeySize)
	_, _ = rand.Read(key)
	box, err := keyring.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring.NewKeys(&keyringtest.MemKeys{}, box, time.Now, time.Hour, 2*time.Hour)
	if err := keys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(keys, keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	s := &accessTokenStrategy{signer: signer, verified: newVerifiedTokens()}
	exp := time.Now().Add(30 * time.Second).Truncate(time.Second)
	token, _, err := signer.Generate(t.Context(), jwt.MapClaims{"sub": "caf", "exp": exp.Unix(), "iat": time.Now().Unix()}, jwt.NewHeaders())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateAccessToken(t.Context(), nil, token); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if len(s.verified.m) != 1 {
		t.Fatalf("%d tokens remembered after one verification, want 1", len(s.verified.m))
	}
	// The signature is no longer checked, so a remembered token passes
	// even with its keys gone; its expiry is checked.
	s.signer = nil
	if err := s.ValidateAccessToken(t.Context(), nil, token); err != nil {
		t.Errorf("second use, remembered: %v", err)
	}
	defer func(f func() time.Time) { jwt.TimeFunc = f }(jwt.TimeFunc)
	jwt.TimeFunc = func() time.Time { return exp.Add(500 * time.Millisecond) }
	if err := s.ValidateAccessToken(t.Context(), nil, token); err != nil {
		t.Errorf("within its exp second: %v", err)
	}
	if _, ok := s.verified.get(sha256Of(token), exp.Add(time.Second)); ok {
		t.Error("a token is remembered past its exp")
	}
	s.verified.put(sha256Of(token), exp.Unix(), time.Now()) // as if remembered just before
	jwt.TimeFunc = func() time.Time { return exp.Add(time.Second) }
	s.signer = signer
	if err := s.ValidateAccessToken(t.Context(), nil, token); !errors.Is(err, fosite.ErrTokenExpired) {
		t.Errorf("after its exp: %v, want ErrTokenExpired", err)
	}
	jwt.TimeFunc = time.Now
	tampered := token[:len(token)-4] + "AAAA"
	for range 2 {
		if err := s.ValidateAccessToken(t.Context(), nil, tampered); !errors.Is(err, fosite.ErrTokenSignatureMismatch) {
			t.Errorf("tampered token: %v, want ErrTokenSignatureMismatch each time", err)
		}
	}
}

// The memory of verified tokens is bounded and forgets what has lapsed.
func TestVerifiedTokensAreBounded(t *testing.T) {
	v := newVerifiedTokens()
	now := time.Now()
	for i := range maxVerifiedTokens + 10 {
		v.put(sha256Of(string(rune(i))+"token"), 0, now)
	}
	if n := len(v.m); n > maxVerifiedTokens {
		t.Errorf("%d tokens remembered, bound %d", n, maxVerifiedTokens)
	}
	v.put(sha256Of("late"), 0, now)
	if _, ok := v.get(sha256Of("late"), now.Add(verifiedTokenTTL)); ok {
		t.Error("a verification is remembered past verifiedTokenTTL")
	}
}
