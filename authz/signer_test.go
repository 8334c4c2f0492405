package authz_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/keyring"
)

type signerRig struct {
	keys   *keyring.Keys
	signer *authz.Signer
	clock  *clock
}

func newSignerRig(t *testing.T, alg string) signerRig {
	t.Helper()
	c := newClock()
	k := newKeys(t, &memKeys{}, newBox(t), c)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	s, err := authz.NewSigner(k, alg)
	if err != nil {
		t.Fatal(err)
	}
	return signerRig{k, s, c}
}

// claims are an ID token's, valid for an hour of real time: fosite checks
// exp against the wall clock, not the keys' test clock.
func claims(exp time.Time) jwt.MapClaims {
	c := jwt.IDTokenClaims{
		Subject:     "pairwise-subject",
		Issuer:      "https://relais.example.fr",
		Audience:    []string{"demo-site"},
		IssuedAt:    time.Now().Add(-time.Minute),
		RequestedAt: time.Now().Add(-time.Minute),
		AuthTime:    time.Now().Add(-time.Minute),
		ExpiresAt:   exp,
		Nonce:       "n-0S6_WzA2Mj",
	}
	return c.ToMapClaims()
}

func (r signerRig) sign(t *testing.T, mc jwt.MapClaims, h *jwt.Headers) string {
	t.Helper()
	if h == nil {
		h = jwt.NewHeaders()
	}
	token, sig, err := r.signer.Generate(t.Context(), mc, h)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if !strings.HasSuffix(token, "."+sig) {
		t.Errorf("signature %q is not the token's third part", sig)
	}
	return token
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func wantValidationError(t *testing.T, err error, flag uint32) {
	t.Helper()
	var ve *jwt.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want a *jwt.ValidationError", err, err)
	}
	if !ve.Has(flag) {
		t.Errorf("ValidationError flags %b lack %b (%v)", ve.Errors, flag, err)
	}
}

func TestSignerSignsAndVerifies(t *testing.T) {
	for _, alg := range []string{keyring.ES256, keyring.RS256} {
		t.Run(alg, func(t *testing.T) {
			r := newSignerRig(t, alg)
			h := jwt.NewHeaders()
			h.Add("typ", "at+jwt") // RFC 9068 §2.1
			h.Add("kid", "chosen-by-someone-else")
			h.Add("alg", "HS256")
			token := r.sign(t, claims(time.Now().Add(time.Hour)), h)

			hdr := header(t, token)
			kid, _, _ := r.keys.Active(t.Context(), alg)
			if hdr["alg"] != alg || hdr["kid"] != kid || hdr["typ"] != "at+jwt" {
				t.Errorf("header = %v, want alg %s, kid %s, typ at+jwt", hdr, alg, kid)
			}
			got, err := r.signer.Decode(t.Context(), token)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !got.Valid() || got.Claims["sub"] != "pairwise-subject" || got.Claims["nonce"] != "n-0S6_WzA2Mj" {
				t.Errorf("decoded claims = %v", got.Claims)
			}
			sig, err := r.signer.Validate(t.Context(), token)
			if err != nil || sig != strings.Split(token, ".")[2] {
				t.Errorf("Validate = %q, %v", sig, err)
			}
		})
	}
}

func TestSignerDefaultsToJWTTypeAndES256(t *testing.T) {
	r := newSignerRig(t, "")
	hdr := header(t, r.sign(t, claims(time.Now().Add(time.Hour)), nil))
	if hdr["typ"] != "JWT" || hdr["alg"] != "ES256" {
		t.Errorf("header = %v, want typ JWT, alg ES256", hdr)
	}
	if _, err := authz.NewSigner(r.keys, "HS256"); err == nil {
		t.Error("NewSigner(HS256) succeeded")
	}
}

// TestTokensOutliveARotation: a token of the old key still verifies once
// the new key signs, until the old key leaves the JWKS.
func TestTokensOutliveARotation(t *testing.T) {
	r := newSignerRig(t, keyring.ES256)
	old := r.sign(t, claims(time.Now().Add(time.Hour)), nil)
	next, err := r.keys.Rotate(t.Context(), keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	r.clock.set(next.SignFrom)
	fresh := r.sign(t, claims(time.Now().Add(time.Hour)), nil)
	if header(t, fresh)["kid"] != next.ID || header(t, old)["kid"] == next.ID {
		t.Fatalf("kids: old token %v, new token %v, new key %s", header(t, old)["kid"], header(t, fresh)["kid"], next.ID)
	}
	for name, token := range map[string]string{"old": old, "new": fresh} {
		if _, err := r.signer.Validate(t.Context(), token); err != nil {
			t.Errorf("%s token after the rotation: %v", name, err)
		}
	}
	r.clock.set(next.SignFrom.Add(publishedFor))
	_, err = r.signer.Validate(t.Context(), old)
	wantValidationError(t, err, jwt.ValidationErrorUnverifiable)
	// fosite's ValidationError keeps the key function's error in Inner
	// without an Unwrap method.
	if ve := (*jwt.ValidationError)(nil); !errors.As(err, &ve) || !errors.Is(ve.Inner, keyring.ErrUnknownKey) {
		t.Errorf("old token once its key left the JWKS: %v, want ErrUnknownKey inside", err)
	}
	if _, err := r.signer.Validate(t.Context(), fresh); err != nil {
		t.Errorf("new token: %v", err)
	}
}

func TestSignerRefusesBadTokens(t *testing.T) {
	r := newSignerRig(t, keyring.ES256)
	good := r.sign(t, claims(time.Now().Add(time.Hour)), nil)
	parts := strings.Split(good, ".")
	kid, _, _ := r.keys.Active(t.Context(), keyring.ES256)
	rsKID, _, _ := r.keys.Active(t.Context(), keyring.RS256)
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	set, _ := r.keys.Public(t.Context())
	pubJSON, _ := json.Marshal(set.Key(kid)[0])

	// HS256 "signed" with the public key as the secret: the classic
	// algorithm confusion (RFC 8725 §2.1).
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubJSON}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any(claims(time.Now().Add(time.Hour))))
	jws, err := hs.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	hsToken, _ := jws.CompactSerialize()

	tampered := claims(time.Now().Add(time.Hour))
	tampered["sub"] = "someone-else"

	notYet := claims(time.Now().Add(time.Hour))
	notYet["nbf"] = time.Now().Add(10 * time.Minute).Unix()

	// access is what the access tokens' direct verification
	// (access_token.go) answers for the same token: fosite's error for it.
	tests := []struct {
		name   string
		token  string
		flag   uint32
		access error
	}{
		{"an expired token reports expiry", r.sign(t, claims(time.Now().Add(-time.Minute)), nil), jwt.ValidationErrorExpired, fosite.ErrTokenExpired},
		{"a token not valid yet is refused", r.sign(t, notYet, nil), jwt.ValidationErrorNotValidYet, fosite.ErrTokenClaim},
		{"a changed payload fails its signature", parts[0] + "." + enc(tampered) + "." + parts[2], jwt.ValidationErrorSignatureInvalid, fosite.ErrTokenSignatureMismatch},
		{"an unknown kid is refused", enc(map[string]string{"alg": "ES256", "kid": "nobody"}) + "." + parts[1] + "." + parts[2], jwt.ValidationErrorUnverifiable, fosite.ErrTokenSignatureMismatch},
		{"a token without kid is refused", enc(map[string]string{"alg": "ES256"}) + "." + parts[1] + "." + parts[2], jwt.ValidationErrorUnverifiable, fosite.ErrTokenSignatureMismatch},
		{"another key's kid fails the signature", enc(map[string]string{"alg": "RS256", "kid": rsKID}) + "." + parts[1] + "." + parts[2], jwt.ValidationErrorSignatureInvalid, fosite.ErrTokenSignatureMismatch},
		{"HS256 keyed with the public key is refused", hsToken, jwt.ValidationErrorUnverifiable, fosite.ErrInvalidTokenFormat},
		{"alg none is refused", enc(map[string]string{"alg": "none", "kid": kid}) + "." + parts[1] + ".", jwt.ValidationErrorUnverifiable | jwt.ValidationErrorMalformed, fosite.ErrInvalidTokenFormat},
		{"a token of two parts is malformed", parts[0] + "." + parts[1], jwt.ValidationErrorMalformed, fosite.ErrInvalidTokenFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := r.signer.Decode(t.Context(), tt.token)
			wantValidationError(t, err, tt.flag)
			if tok != nil && tok.Valid() {
				t.Error("a refused token is marked valid")
			}
			if _, err := r.signer.Validate(t.Context(), tt.token); err == nil {
				t.Error("Validate accepted it")
			}
			if err := authz.VerifyAccessToken(r.signer, t.Context(), tt.token); !errors.Is(err, tt.access) {
				t.Errorf("access token verification: %v, want %v", err, tt.access)
			}
		})
	}
	t.Run("the access tokens' verification accepts a good token", func(t *testing.T) {
		if err := authz.VerifyAccessToken(r.signer, t.Context(), good); err != nil {
			t.Errorf("good token: %v", err)
		}
	})

	t.Run("an expired token still gives its claims, for id_token_hint", func(t *testing.T) {
		tok, err := r.signer.Decode(t.Context(), r.sign(t, claims(time.Now().Add(-time.Minute)), nil))
		wantValidationError(t, err, jwt.ValidationErrorExpired)
		if tok == nil || tok.Claims["sub"] != "pairwise-subject" {
			t.Errorf("expired token decoded as %+v", tok)
		}
	})
}

func TestSignerHashMatchesItsLength(t *testing.T) {
	r := newSignerRig(t, keyring.ES256)
	h, err := r.signer.Hash(t.Context(), []byte("access-token"))
	if err != nil || len(h) != r.signer.GetSigningMethodLength(t.Context()) || len(h) != 32 {
		t.Errorf("Hash = %d bytes, %v; length %d", len(h), err, r.signer.GetSigningMethodLength(t.Context()))
	}
}
