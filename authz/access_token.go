package authz

import (
	"context"
	"encoding/json"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// accessTokenStrategy is fosite's JWT access-token strategy with one
// change: an access token is verified by go-jose v4 directly, with the key
// it names, instead of through fosite's generic parser (go-jose v3, the
// claims decoded into a map, then checked). Every introspection, userinfo,
// token exchange and access evaluation with a bearer token verifies one,
// and that parser was a quarter of an introspection's cost. The checks are
// the same: the signature by a published key whose algorithm is the key's
// own (RFC 8725 §3.1), then exp, iat and nbf as fosite reads them; the
// store is read as before (introspection answers from the stored grant,
// never from the token's claims).
type accessTokenStrategy struct {
	*oauth2.DefaultJWTStrategy
	signer *Signer
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (s *accessTokenStrategy) ValidateAccessToken(ctx context.Context, _ fosite.Requester, token string) error {
	return s.signer.verifyAccessToken(ctx, token)
}

// tokenAlgs are the algorithms a Relais key signs with; a token naming any
// other is refused before its key is looked up.
var tokenAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// timeClaims are the claims fosite's MapClaims.Valid checks; a claim that
// is absent or 0 is not checked, as there.
type timeClaims struct {
	Exp json.Number `json:"exp"`
	Iat json.Number `json:"iat"`
	Nbf json.Number `json:"nbf"`
}

// verifyAccessToken checks token's signature and time claims, with
// fosite's errors: ErrInvalidTokenFormat for what is not a JWS of ours,
// ErrTokenSignatureMismatch for a key unknown or a signature wrong,
// ErrTokenExpired, and ErrTokenClaim for a token used before its iat or
// nbf. A store that cannot be read is mandates.ErrUnavailable, as
// elsewhere.
func (s *Signer) verifyAccessToken(ctx context.Context, token string) error {
	jws, err := jose.ParseSignedCompact(token, tokenAlgs)
	if err != nil {
		return fosite.ErrInvalidTokenFormat.WithWrap(err)
	}
	if len(jws.Signatures) != 1 {
		return fosite.ErrInvalidTokenFormat.WithHint("The token must carry one signature.")
	}
	h := jws.Signatures[0].Header
	if h.KeyID == "" {
		return fosite.ErrTokenSignatureMismatch.WithHint("The token names no key (kid).")
	}
	jwk, err := s.keys.Verifier(ctx, h.KeyID)
	switch {
	case errors.Is(err, keyring.ErrUnknownKey):
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	case errors.Is(err, mandates.ErrUnavailable):
		return err
	case err != nil:
		return fosite.ErrServerError.WithWrap(err)
	}
	if h.Algorithm != jwk.Algorithm {
		return fosite.ErrTokenSignatureMismatch.WithHintf("The token's algorithm is not that of key %s.", h.KeyID)
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	var c timeClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return fosite.ErrInvalidTokenFormat.WithWrap(err)
	}
	now := jwt.TimeFunc().Unix()
	claim := func(n json.Number) (int64, bool) {
		if n == "" {
			return 0, true
		}
		f, err := n.Float64()
		return int64(f), err == nil
	}
	exp, okExp := claim(c.Exp)
	iat, okIat := claim(c.Iat)
	nbf, okNbf := claim(c.Nbf)
	switch {
	case !okExp || !okIat || !okNbf:
		return fosite.ErrInvalidTokenFormat.WithHint("A time claim of the token is not a number.")
	case exp != 0 && now > exp:
		return fosite.ErrTokenExpired
	case iat != 0 && now < iat, nbf != 0 && now < nbf:
		return fosite.ErrTokenClaim.WithHint("The token is not valid yet.")
	}
	return nil
}
