package authz

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"sync"
	"time"

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
// token exchange and access evaluation with a bearer token verifies one.
// The checks are
// the same: the signature by a published key whose algorithm is the key's
// own (RFC 8725 §3.1), then exp, iat and nbf as fosite reads them; the
// store is read as before (introspection answers from the stored grant,
// never from the token's claims).
//
// A resource server introspects the same token at each request it serves,
// and the ECDSA verification of a token was a quarter of an
// introspection's cost. What it proves of the same bytes does not change,
// so a token verified is remembered (verifiedTokens) and only its expiry
// is checked again, for at most verifiedTokenTTL. Nothing of the grant is
// remembered: the store is read at every introspection, so a token
// revoked, or of a representation withdrawn, is refused at once.
type accessTokenStrategy struct {
	*oauth2.DefaultJWTStrategy
	signer   *Signer
	verified *verifiedTokens
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (s *accessTokenStrategy) ValidateAccessToken(ctx context.Context, _ fosite.Requester, token string) error {
	key := sha256Of(token)
	now := jwt.TimeFunc()
	if exp, ok := s.verified.get(key, now); ok {
		if exp != 0 && now.Unix() > exp {
			return fosite.ErrTokenExpired
		}
		return nil
	}
	exp, err := s.signer.verifyAccessToken(ctx, token)
	if err == nil {
		s.verified.put(key, exp, now)
	}
	return err
}

func sha256Of(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

// verifiedTokenTTL bounds how long a verification is remembered, and
// maxVerifiedTokens how many are: 32 bytes of hash and two numbers each,
// about 2 MiB when full.
const (
	verifiedTokenTTL  = time.Minute
	maxVerifiedTokens = 1 << 15
)

// verifiedTokens remembers the hashes of tokens whose signature was
// verified, with their exp (0: none) and until when the memory lasts.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct{ exp, until int64 }

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{m: map[[sha256.Size]byte]verifiedToken{}}
}

func (v *verifiedTokens) get(key [sha256.Size]byte, now time.Time) (exp int64, ok bool) {
	v.mu.Lock()
	e, ok := v.m[key]
	v.mu.Unlock()
	if !ok || now.Unix() >= e.until {
		return 0, false
	}
	return e.exp, true
}

func (v *verifiedTokens) put(key [sha256.Size]byte, exp int64, now time.Time) {
	until := now.Add(verifiedTokenTTL).Unix()
	if exp != 0 {
		until = min(until, exp+1)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= maxVerifiedTokens {
		for k, e := range v.m {
			if now.Unix() >= e.until {
				delete(v.m, k)
			}
		}
		if len(v.m) >= maxVerifiedTokens {
			clear(v.m)
		}
	}
	v.m[key] = verifiedToken{exp: exp, until: until}
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
func (s *Signer) verifyAccessToken(ctx context.Context, token string) (exp int64, err error) {
	jws, err := jose.ParseSignedCompact(token, tokenAlgs)
	if err != nil {
		return 0, fosite.ErrInvalidTokenFormat.WithWrap(err)
	}
	if len(jws.Signatures) != 1 {
		return 0, fosite.ErrInvalidTokenFormat.WithHint("The token must carry one signature.")
	}
	h := jws.Signatures[0].Header
	if h.KeyID == "" {
		return 0, fosite.ErrTokenSignatureMismatch.WithHint("The token names no key (kid).")
	}
	jwk, err := s.keys.Verifier(ctx, h.KeyID)
	switch {
	case errors.Is(err, keyring.ErrUnknownKey):
		return 0, fosite.ErrTokenSignatureMismatch.WithWrap(err)
	case errors.Is(err, mandates.ErrUnavailable):
		return 0, err
	case err != nil:
		return 0, fosite.ErrServerError.WithWrap(err)
	}
	if h.Algorithm != jwk.Algorithm {
		return 0, fosite.ErrTokenSignatureMismatch.WithHintf("The token's algorithm is not that of key %s.", h.KeyID)
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return 0, fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	var c timeClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return 0, fosite.ErrInvalidTokenFormat.WithWrap(err)
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
		return 0, fosite.ErrInvalidTokenFormat.WithHint("A time claim of the token is not a number.")
	case exp != 0 && now > exp:
		return 0, fosite.ErrTokenExpired
	case iat != 0 && now < iat, nbf != 0 && now < nbf:
		return 0, fosite.ErrTokenClaim.WithHint("The token is not valid yet.")
	}
	return exp, nil
}
