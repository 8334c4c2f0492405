package authz

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	// fosite v0.49 speaks go-jose v3 for a client's keys; this file is the
	// only place Relais meets that version (STYLE-ANCHORS.md).
	josev3 "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
)

// fositeClient shows a Relais Client to fosite.
type fositeClient struct{ c oauth.Client }

var (
	_ fosite.Client              = (*fositeClient)(nil)
	_ fosite.OpenIDConnectClient = (*fositeClient)(nil)
	_ fosite.ResponseModeClient  = (*fositeClient)(nil)
)

func (f *fositeClient) GetID() string             { return f.c.ID }
func (f *fositeClient) GetHashedSecret() []byte   { return []byte(f.c.SecretHash) }
func (f *fositeClient) GetRedirectURIs() []string { return f.c.RedirectURIs }
func (f *fositeClient) GetGrantTypes() fosite.Arguments {
	return fosite.Arguments(f.c.GrantTypes)
}

// GetResponseTypes: Relais offers the authorization code flow only, as the
// OAuth 2.0 Security BCP recommends (RFC 9700 §2.1.2: no implicit flow).
func (f *fositeClient) GetResponseTypes() fosite.Arguments {
	if slices.Contains(f.c.GrantTypes, "authorization_code") {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments{}
}

func (f *fositeClient) GetScopes() fosite.Arguments { return fosite.Arguments(f.c.Scopes) }
func (f *fositeClient) IsPublic() bool              { return f.c.TokenEndpointAuthMethod == oauth.AuthMethodNone }

// GetAudience lists the audiences the client may ask a token for: itself,
// and the other administrations it may exchange tokens for (RFC 8693).
func (f *fositeClient) GetAudience() fosite.Arguments {
	return append(fosite.Arguments{f.c.ID}, f.c.ExchangeAudiences...)
}

func (f *fositeClient) GetRequestURIs() []string { return nil }

// GetJSONWebKeys returns the inline key set for private_key_jwt; a set
// that does not parse counts as none (Validate refuses it on registration).
func (f *fositeClient) GetJSONWebKeys() *josev3.JSONWebKeySet {
	if f.c.JWKS == "" {
		return nil
	}
	var set josev3.JSONWebKeySet
	if err := json.Unmarshal([]byte(f.c.JWKS), &set); err != nil {
		return nil
	}
	return &set
}

func (f *fositeClient) GetJSONWebKeysURI() string                { return f.c.JWKSURI }
func (f *fositeClient) GetRequestObjectSigningAlgorithm() string { return "" }
func (f *fositeClient) GetTokenEndpointAuthMethod() string       { return f.c.TokenEndpointAuthMethod }

// GetTokenEndpointAuthSigningAlgorithm is the algorithm fosite requires of
// a private_key_jwt assertion: the registered key's alg, or the one its key
// type implies (RFC 7518 §3.1); ES256, Relais's own default, for a key set
// given by URL. A key for encryption (use enc: ID tokens and userinfo
// encrypted to the client, encryption.go) signs nothing: it is skipped.
func (f *fositeClient) GetTokenEndpointAuthSigningAlgorithm() string {
	set := f.GetJSONWebKeys()
	if set == nil {
		return oauth.AlgES256
	}
	i := slices.IndexFunc(set.Keys, func(k josev3.JSONWebKey) bool { return k.Use != "enc" })
	if i < 0 {
		return oauth.AlgES256
	}
	k := set.Keys[i]
	if k.Algorithm != "" {
		return k.Algorithm
	}
	switch k.Key.(type) {
	case *rsa.PublicKey:
		return oauth.AlgRS256
	}
	return oauth.AlgES256
}

// GetResponseModes: query only; fragment and form_post are not offered.
func (f *fositeClient) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery}
}

// secretHasher compares client secrets with SHA-256: the secrets are 256
// random bits made by Relais, so a slow password hash would add cost on
// every token request and no safety (STYLE.md, Libraries).
type secretHasher struct{}

var _ fosite.Hasher = secretHasher{}

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	sum := sha256.Sum256(data)
	want := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(want, sum[:])
	if len(hash) == 0 || subtle.ConstantTimeCompare(hash, want) != 1 {
		return errors.New("authz: client secret does not match")
	}
	return nil
}

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum[:])
	return out, nil
}

// clientPublicKeys are the keys c registered, inline or at its jwks_uri,
// fetched by fosite's fetcher (the one that checks private_key_jwt
// assertions, with its cache), as go-jose v4 keys.
func (p *Provider) clientPublicKeys(ctx context.Context, c oauth.Client) ([]jose.JSONWebKey, error) {
	return p.clientKeys(ctx, c, false)
}

// clientKeys is clientPublicKeys; fresh reads a jwks_uri again past the
// fetcher's cache, as fosite does when an assertion names a key it has
// not seen.
func (p *Provider) clientKeys(ctx context.Context, c oauth.Client, fresh bool) ([]jose.JSONWebKey, error) {
	var raw []byte
	switch {
	case c.JWKS != "":
		raw = []byte(c.JWKS)
	case c.JWKSURI != "":
		set, err := p.fconf.GetJWKSFetcherStrategy(ctx).Resolve(ctx, c.JWKSURI, fresh)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", c.JWKSURI, err)
		}
		if raw, err = json.Marshal(set); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("read the client's key set: %w", err)
	}
	keys := set.Keys[:0]
	for _, k := range set.Keys {
		if k.Valid() && k.IsPublic() {
			keys = append(keys, k)
		}
	}
	return keys, nil
}
