package authz

import (
	"context"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// Encrypted ID tokens and userinfo answers (OIDC Core §10.2, OIDC
// Registration §2), as FranceConnect requires of the identity providers
// it federates: Relais signs as for any client, then encrypts the signed
// JWT to the client's public key, a nested JWT (RFC 7519 §5.2) in JWE
// compact form with cty "JWT" and the kid of the key used. A client that
// registered no encryption gets what it got before.

// errNoEncryptionKey: the keys the client registered (jwks_uri, read when
// a token is issued) hold none to encrypt to with its alg.
var errNoEncryptionKey = errors.New("authz: the client's keys hold no usable encryption key")

// encryptionKey is the key of c to encrypt to with alg (oauth.EncryptionKey
// picks it). A jwks_uri whose cached set holds none is read once more,
// fresh, as fosite does for a client assertion's unknown kid.
func (p *Provider) encryptionKey(ctx context.Context, c oauth.Client, alg string) (jose.JSONWebKey, error) {
	keys, err := p.clientPublicKeys(ctx, c)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("client %s: read its keys: %w", c.ID, err)
	}
	if k, ok := oauth.EncryptionKey(keys, alg); ok {
		return k, nil
	}
	if c.JWKSURI != "" {
		if keys, err = p.clientKeys(ctx, c, true); err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("client %s: read its keys: %w", c.ID, err)
		}
		if k, ok := oauth.EncryptionKey(keys, alg); ok {
			return k, nil
		}
	}
	return jose.JSONWebKey{}, fmt.Errorf("client %s, %s: %w", c.ID, alg, errNoEncryptionKey)
}

// encryptTo encrypts a signed JWT to c's key for alg, with enc.
func (p *Provider) encryptTo(ctx context.Context, c oauth.Client, alg, enc, jws string) (string, error) {
	key, err := p.encryptionKey(ctx, c, alg)
	if err != nil {
		return "", err
	}
	e, err := jose.NewEncrypter(jose.ContentEncryption(enc),
		jose.Recipient{Algorithm: jose.KeyAlgorithm(alg), Key: key.Key, KeyID: key.KeyID},
		// RFC 7519 §5.2: cty "JWT" says the plaintext is itself a JWT.
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return "", fmt.Errorf("client %s: encrypt to key %s: %w", c.ID, key.KeyID, err)
	}
	obj, err := e.Encrypt([]byte(jws))
	if err != nil {
		return "", fmt.Errorf("client %s: encrypt to key %s: %w", c.ID, key.KeyID, err)
	}
	return obj.CompactSerialize()
}

// encryptIDToken is the last step of every ID token Relais issues (the
// code grant and the refresh grant go through idTokenStrategy; token
// exchange issues none): a client that registered
// id_token_encrypted_response_alg gets it encrypted, or no ID token at
// all, never one in clear.
func (p *Provider) encryptIDToken(ctx context.Context, c oauth.Client, jws string) (string, error) {
	if !c.EncryptsIDToken() {
		return jws, nil
	}
	out, err := p.encryptTo(ctx, c, c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc, jws)
	if err != nil {
		p.log.WarnContext(ctx, "ID token not issued: it cannot be encrypted to the client", "client_id", c.ID, "err", err)
		return "", encryptionRefusal(err)
	}
	return out, nil
}

// checkIDTokenEncryption finds the key an ID token of this token request
// would be encrypted to before any token is made: a refused request
// stores and journals no access or refresh token, and a refresh token is
// not rotated away (a code is spent already: PKCE's check removed its
// challenge). Found once here, the key is found again from the fetcher's
// cache when the token is made; encryptIDToken still refuses if it fails
// then.
func (p *Provider) checkIDTokenEncryption(ctx context.Context, ar fosite.AccessRequester) error {
	fc, ok := ar.GetClient().(*fositeClient)
	if !ok || !fc.c.EncryptsIDToken() || !ar.GetGrantedScopes().Has("openid") {
		return nil
	}
	// The grants that issue ID tokens (provider.go's openid handlers).
	if !ar.GetGrantTypes().ExactOne("authorization_code") && !ar.GetGrantTypes().ExactOne("refresh_token") {
		return nil
	}
	if _, err := p.encryptionKey(ctx, fc.c, fc.c.IDTokenEncryptedResponseAlg); err != nil {
		p.log.WarnContext(ctx, "token request refused: the ID token cannot be encrypted to the client", "client_id", fc.c.ID, "err", err)
		return encryptionRefusal(err)
	}
	return nil
}

// encryptionRefusal is the token endpoint's answer when the client's keys
// cannot be used: invalid_client (RFC 6749 §5.2), as fosite answers when a
// client's keys cannot check its assertion. The fault is in the client's
// registration, which only the client can mend (publish a key for its
// alg), so a server_error, which says Relais failed and invites a retry,
// would mislead. The hint says what to mend, never why in Relais's words;
// the cause goes to the log. A store that is down stays
// temporarily_unavailable.
func encryptionRefusal(err error) error {
	switch {
	case errors.Is(err, mandates.ErrUnavailable):
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	case errors.Is(err, errNoEncryptionKey):
		return fosite.ErrInvalidClient.WithHint("The client's registered keys hold no key to encrypt its ID token to: publish a public key of the type its encryption algorithm needs, with use enc.").WithWrap(err)
	}
	return fosite.ErrInvalidClient.WithHint("The client's registered keys could not be read to encrypt its ID token.").WithWrap(err)
}

// userinfoRefusal is the userinfo endpoint's answer when the answer cannot
// be encrypted to the client: the same invalid_client as the token
// endpoint's, for the same reason, as a 401 with a bare challenge of the
// token's scheme (RFC 6750 §3 wants one on every 401; the token itself is
// fine, so no error attribute blames it).
func userinfoRefusal(scheme string, err error) error {
	if errors.Is(err, mandates.ErrUnavailable) {
		return err
	}
	desc := "The client's registered keys could not be read to encrypt the answer."
	if errors.Is(err, errNoEncryptionKey) {
		desc = "The client's registered keys hold no key to encrypt the answer to: publish a public key of the type its encryption algorithm needs, with use enc."
	}
	return &bearerError{Status: 401, Challenges: []string{scheme}, Code: "invalid_client", Description: desc}
}

// userinfoSigningAlg: an encrypted userinfo answer is always signed first
// (a nested JWT, so the site can tell Relais made it): with the client's
// userinfo_signed_response_alg, or else its ID token's algorithm.
func userinfoSigningAlg(c oauth.Client) string {
	if c.UserinfoSignedResponseAlg != "" {
		return c.UserinfoSignedResponseAlg
	}
	if c.IDTokenSignedResponseAlg != "" {
		return c.IDTokenSignedResponseAlg
	}
	return oauth.AlgES256
}
