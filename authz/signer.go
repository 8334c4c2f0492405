package authz

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/keyring"
)

// Signer is fosite's jwt.Signer on go-jose v4 over Keys: it signs with the
// active key and names it in kid (RFC 7515 §4.1.4), and verifies with
// whichever published key the token names, so tokens signed before a
// rotation still verify. fosite's DefaultSigner holds one fixed key and
// cannot do either (see STYLE-ANCHORS.md, "fosite v0.49 wiring facts").
type Signer struct {
	keys *keyring.Keys
	alg  string
}

var _ jwt.Signer = (*Signer)(nil)

// NewSigner signs with the active key of alg; "" means ES256.
func NewSigner(keys *keyring.Keys, alg string) (*Signer, error) {
	if alg == "" {
		alg = keyring.ES256
	}
	if err := keyring.CheckAlg(alg); err != nil {
		return nil, err
	}
	return &Signer{keys: keys, alg: alg}, nil
}

// Alg is the algorithm tokens are signed with, for the discovery document.
func (s *Signer) Alg() string { return s.alg }

// Generate signs claims. Headers fosite passes (typ: at+jwt for RFC 9068
// access tokens) are kept, except alg and kid, which belong to the key.
func (s *Signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if claims == nil || header == nil {
		return "", "", errors.New("sign token: claims or header is nil")
	}
	kid, key, err := s.keys.Active(ctx, s.alg)
	if err != nil {
		return "", "", fmt.Errorf("sign token: %w", err)
	}
	extra := map[jose.HeaderKey]any{"typ": "JWT"}
	for name, v := range header.ToMap() {
		if name != "alg" && name != "kid" {
			extra[jose.HeaderKey(name)] = v
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(s.alg),
		// cryptosigner turns the crypto.Signer's ASN.1 ECDSA signature into
		// the fixed-size R || S form RFC 7518 §3.4 requires.
		Key: jose.JSONWebKey{Key: cryptosigner.Opaque(key), KeyID: kid, Algorithm: s.alg},
	}, &jose.SignerOptions{ExtraHeaders: extra})
	if err != nil {
		return "", "", fmt.Errorf("sign token: %w", err)
	}
	payload, err := json.Marshal(map[string]any(claims))
	if err != nil {
		return "", "", fmt.Errorf("sign token: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", "", fmt.Errorf("sign token: %w", err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", "", fmt.Errorf("sign token: %w", err)
	}
	sig, err := s.GetSignature(ctx, token)
	return token, sig, err
}

// Decode verifies a token and its time claims with fosite's own parser,
// so errors are the *jwt.ValidationError fosite tests (an expired
// id_token_hint is accepted that way). The token is returned with its
// claims even when it is expired, as fosite expects.
func (s *Signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token names no key (kid)")
		}
		jwk, err := s.keys.Verifier(ctx, kid)
		if err != nil {
			return nil, err
		}
		// RFC 8725 §3.1: the key decides the algorithm, never the token's
		// header, so HS256 made with the public key or "none" cannot pass.
		if string(t.Method) != jwk.Algorithm {
			return nil, fmt.Errorf("token algorithm %q does not match key %s (%s)", t.Method, kid, jwk.Algorithm)
		}
		return jwk.Key, nil
	})
}

// Validate verifies a token and returns its signature.
func (s *Signer) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

// GetSignature returns the third part of a compact JWS.
func (s *Signer) GetSignature(_ context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("token: header, payload and signature must all be set")
	}
	return parts[2], nil
}

// Hash is SHA-256: ES256 and RS256 both hash with it, and OpenID Connect
// Core §3.1.3.6 derives at_hash and c_hash from the signature's hash.
func (s *Signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

// GetSigningMethodLength is the size of Hash's output.
func (s *Signer) GetSigningMethodLength(context.Context) int { return sha256.Size }
