package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/relais-fr/relais/mandates"
)

// Client is a relying party: a public-service site that signs people in
// through Relais. Field comments give the RFC 7591 §2 (and OpenID Connect
// Dynamic Client Registration 1.0 §2) metadata name each field stands for.
type Client struct {
	ID                     string
	Name                   string   // client_name
	RedirectURIs           []string // redirect_uris, matched exactly (RFC 9700 §2.1)
	PostLogoutRedirectURIs []string // post_logout_redirect_uris (OIDC RP-Initiated Logout §3.1), matched exactly
	Scopes                 []string // scope: what the client may ask for
	GrantTypes             []string // grant_types, e.g. authorization_code, refresh_token
	SectorIdentifier       string   // host that groups clients sharing pairwise subjects (OIDC Core §8.1)
	SecretHash             string   // hex SHA-256 of the secret; empty unless a client_secret_* method

	TokenEndpointAuthMethod   string // token_endpoint_auth_method: one of the AuthMethod* values
	JWKS                      string // jwks: inline JSON Web Key Set, public keys only
	JWKSURI                   string // jwks_uri: https URL of the client's key set
	SubjectType               string // subject_type: SubjectPairwise or SubjectPublic
	IDTokenSignedResponseAlg  string // id_token_signed_response_alg: AlgES256 or AlgRS256
	UserinfoSignedResponseAlg string // userinfo_signed_response_alg: "" for plain JSON, or AlgES256, AlgRS256
	// The encryption of ID tokens and userinfo answers (OIDC Registration
	// §2), to a key of JWKS or JWKSURI (encryption.go): "" for none, or
	// EncAlgRSAOAEP256, EncAlgECDHES, with EncA256GCM.
	IDTokenEncryptedResponseAlg  string // id_token_encrypted_response_alg
	IDTokenEncryptedResponseEnc  string // id_token_encrypted_response_enc
	UserinfoEncryptedResponseAlg string // userinfo_encrypted_response_alg
	UserinfoEncryptedResponseEnc string // userinfo_encrypted_response_enc
	// ProcedureAreas are the procedure areas (mandates.Area) the site's
	// procedures belong to: a representative sees, for this site, only
	// the people whose representation covers one of them. Relais's own
	// metadata field "procedure_areas".
	ProcedureAreas []string
	// ExchangeAudiences are the other clients (other administrations' APIs)
	// this client may exchange a person's token for, by RFC 8693 token
	// exchange. Relais's own metadata field "token_exchange_audiences".
	ExchangeAudiences []string
	// RequireSignedRequestObject (require_signed_request_object, RFC 9101
	// §10.5): the client's authorization requests count only as signed
	// request objects; a plain request is refused.
	RequireSignedRequestObject bool
	// DPoPBoundAccessTokens: every token request of this client carries a
	// DPoP proof, so all its tokens are bound to the client's key (RFC
	// 9449 §5.2 metadata dpop_bound_access_tokens).
	DPoPBoundAccessTokens bool

	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// Token endpoint authentication methods a client may register (RFC 7591
// §2; the names are those of OIDC Core §9).
const (
	AuthMethodSecretBasic   = "client_secret_basic" // the default of RFC 7591 §2
	AuthMethodSecretPost    = "client_secret_post"
	AuthMethodPrivateKeyJWT = "private_key_jwt" // RFC 7523 §2.2 assertion signed with a registered key
	AuthMethodNone          = "none"            // a public client: no secret, PKCE only
)

// Subject types (OIDC Core §8).
const (
	// SubjectPairwise gives each sector its own sub for a person, so two
	// sites cannot link their records; the default, for privacy.
	SubjectPairwise = "pairwise"
	// SubjectPublic gives every client the same sub for a person.
	SubjectPublic = "public"
)

// Signing algorithms Relais offers for ID tokens and userinfo responses.
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// maxJWKSBytes bounds an inline key set: a few public keys fit many times.
const maxJWKSBytes = 64 << 10

// ClientError says which registration metadata field breaks a rule, by its
// RFC 7591 §2 name, so the command line can name its flag and a
// registration endpoint can answer invalid_redirect_uri or
// invalid_client_metadata (RFC 7591 §3.2.2). It matches mandates.ErrInvalid
// with errors.Is.
type ClientError struct {
	Field  string // "redirect_uris", "jwks", "token_endpoint_auth_method"…
	Reason string // a clause that names the field in words
}

func (e *ClientError) Error() string { return mandates.ErrInvalid.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, mandates.ErrInvalid) true.
func (e *ClientError) Unwrap() error { return mandates.ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ClientError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ClientStore keeps relying parties. It reports mandates.ErrNotFound,
// a *mandates.UniqueError on a taken id, and mandates.ErrUnavailable.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) error
	Client(ctx context.Context, id string) (Client, error)
	Clients(ctx context.Context) ([]Client, error)
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) (Client, error)
	DeleteClient(ctx context.Context, id string) error
}

// Normalize writes out the defaults of the fields left empty, so stores
// keep explicit values: client_secret_basic (RFC 7591 §2), pairwise
// subjects (Relais's rule, for privacy; OIDC Core §8), ES256 ID tokens,
// and A256GCM beside an encryption alg given alone. Stores call it before Validate on create and update.
func (c *Client) Normalize() {
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = AuthMethodSecretBasic
	}
	if c.SubjectType == "" {
		c.SubjectType = SubjectPairwise
	}
	if c.IDTokenSignedResponseAlg == "" {
		c.IDTokenSignedResponseAlg = AlgES256
	}
	c.normalizeEncryption()
}

// Validate reports the first field that breaks a rule, as a *ClientError.
// Empty fields count as their defaults (see Normalize); c is not changed.
func (c *Client) Validate() error {
	n := *c
	n.Normalize()
	return n.validate()
}

func (c *Client) validate() error {
	switch {
	case c.ID == "":
		return invalid("client_id", "client id is empty")
	case strings.TrimSpace(c.Name) == "":
		return invalid("client_name", "client name is empty")
	}
	for _, u := range c.RedirectURIs {
		if err := validRedirectURI(u); err != nil {
			return invalid("redirect_uris", "redirect URI %q %v", u, err)
		}
	}
	// RP-Initiated Logout §3 matches these exactly, as redirect URIs are;
	// they get the same rules (RFC 9700 §2.1), since an open redirector
	// after logout is as bad as one after login.
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validRedirectURI(u); err != nil {
			return invalid("post_logout_redirect_uris", "post-logout redirect URI %q %v", u, err)
		}
	}
	if err := c.validAuthentication(); err != nil {
		return err
	}
	switch c.SubjectType {
	case SubjectPairwise:
		// OIDC Core §8.1: a pairwise sub is computed from the sector; an
		// empty one would give every such client the same subjects.
		if c.SectorIdentifier == "" {
			return invalid("sector_identifier", "sector identifier is empty, and pairwise subjects (OIDC Core §8.1) are computed from it")
		}
	case SubjectPublic:
	default:
		return invalid("subject_type", "subject type %q is unknown; use pairwise or public", c.SubjectType)
	}
	if c.SectorIdentifier != "" && !isHostName(c.SectorIdentifier) {
		return invalid("sector_identifier", "sector identifier %q is not a host name (write caf.example.fr, not a URL)", c.SectorIdentifier)
	}
	if c.IDTokenSignedResponseAlg != AlgES256 && c.IDTokenSignedResponseAlg != AlgRS256 {
		// Relais signs every ID token with a key it publishes: "none"
		// (which OIDC Registration §2 tolerates for the code flow) and
		// HMAC with the client secret are not offered.
		return invalid("id_token_signed_response_alg", "ID token signing algorithm %q is not offered; use ES256 or RS256", c.IDTokenSignedResponseAlg)
	}
	switch c.UserinfoSignedResponseAlg {
	case "", AlgES256, AlgRS256:
	default:
		return invalid("userinfo_signed_response_alg", "userinfo signing algorithm %q is not offered; leave it empty for plain JSON, or use ES256 or RS256", c.UserinfoSignedResponseAlg)
	}
	if err := c.validEncryption(); err != nil {
		return err
	}
	if c.RequireSignedRequestObject && c.JWKS == "" && c.JWKSURI == "" {
		return invalid("require_signed_request_object", "signed request objects are required, but the client has no keys (jwks or jwks_uri) to sign them with")
	}
	for i, a := range c.ExchangeAudiences {
		if strings.TrimSpace(a) == "" || a == c.ID || slices.Contains(c.ExchangeAudiences[:i], a) {
			return invalid("token_exchange_audiences", "audience %q is empty, the client itself, or repeated", a)
		}
	}
	for i, a := range c.ProcedureAreas {
		if !mandates.Area(a).Valid() || slices.Contains(c.ProcedureAreas[:i], a) {
			return invalid("procedure_areas", "procedure area %q is unknown or repeated; use the codes papiers, famille, social, travail, logement, transports, argent, justice, etranger, loisirs", a)
		}
	}
	return nil
}

// validAuthentication checks that the method and the credentials it needs
// agree: a secret only for client_secret_*, keys for private_key_jwt.
func (c *Client) validAuthentication() error {
	if c.JWKS != "" && c.JWKSURI != "" {
		// RFC 7591 §2: jwks and jwks_uri MUST NOT both be present.
		return invalid("jwks", "both an inline key set (jwks) and a key set URL (jwks_uri) are given; RFC 7591 §2 allows only one")
	}
	if c.JWKS != "" {
		if err := validJWKS(c.JWKS); err != nil {
			return invalid("jwks", "key set (jwks) %v", err)
		}
	}
	if c.JWKSURI != "" {
		if err := validHTTPSURL(c.JWKSURI); err != nil {
			return invalid("jwks_uri", "key set URL (jwks_uri) %q %v", c.JWKSURI, err)
		}
	}
	switch c.TokenEndpointAuthMethod {
	case AuthMethodSecretBasic, AuthMethodSecretPost:
		if c.SecretHash == "" {
			return invalid("client_secret", "token endpoint auth method %s needs a client secret, and none is set", c.TokenEndpointAuthMethod)
		}
	case AuthMethodPrivateKeyJWT:
		if c.SecretHash != "" {
			return invalid("client_secret", "token endpoint auth method private_key_jwt uses keys, not a secret; remove the secret")
		}
		if c.JWKS == "" && c.JWKSURI == "" {
			return invalid("jwks", "token endpoint auth method private_key_jwt needs the client's public keys (jwks or jwks_uri)")
		}
	case AuthMethodNone:
		// A public client cannot keep a secret (RFC 6749 §2.1), so it
		// must not hold one that would look like proof of identity.
		if c.SecretHash != "" {
			return invalid("client_secret", "token endpoint auth method none is for public clients, which have no secret; remove the secret")
		}
	default:
		return invalid("token_endpoint_auth_method", "token endpoint auth method %q is unknown; use client_secret_basic, client_secret_post, private_key_jwt or none", c.TokenEndpointAuthMethod)
	}
	return nil
}

// isPrivateMember names the JWK members that hold secret material: RFC
// 7518 §6.2.2 (EC), §6.3.2 (RSA), §6.4.1 (symmetric "k"), RFC 8037 §2
// (OKP), and "priv" of the ML-DSA drafts. A client's private key never
// leaves it. Member names are case-sensitive (RFC 7517 §4), but a private
// key pasted as "D" is still a leaked key: refuse it in any case.
func isPrivateMember(name string) bool {
	switch strings.ToLower(name) {
	case "d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv":
		return true
	}
	return false
}

// validJWKS accepts an RFC 7517 §5 JWK Set of one or more public keys that
// go-jose can use.
func validJWKS(raw string) error {
	if len(raw) > maxJWKSBytes {
		return fmt.Errorf("is larger than %d KiB", maxJWKSBytes>>10)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return fmt.Errorf("is not a JSON object with a \"keys\" array")
	}
	if len(set.Keys) == 0 {
		return fmt.Errorf("has no keys")
	}
	for i, rawKey := range set.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(rawKey, &members); err != nil {
			return fmt.Errorf("key %d is not a JSON object", i+1)
		}
		for name := range members {
			if isPrivateMember(name) {
				return fmt.Errorf("key %d holds the private member %q; register public keys only", i+1, name)
			}
		}
		var k jose.JSONWebKey
		// go-jose's own words name its internals, not the registration:
		// the key's number is what the developer can act on.
		if err := k.UnmarshalJSON(rawKey); err != nil {
			return fmt.Errorf("key %d is not a usable key", i+1)
		}
		if !k.Valid() || !k.IsPublic() {
			return fmt.Errorf("key %d is not a public key", i+1)
		}
	}
	return nil
}

// validHTTPSURL: a key set fetched over plain http could be replaced on
// the way, and with it the client's identity, so only https will do.
func validHTTPSURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("does not parse")
	case !u.IsAbs() || u.Host == "":
		return fmt.Errorf("is not absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("has a fragment")
	case u.Scheme != "https":
		return fmt.Errorf("must use https")
	}
	return nil
}

// isHostName accepts a bare host: what OIDC Core §8.1 takes from a URL.
func isHostName(s string) bool {
	if strings.ContainsAny(s, "/:@?#% \t\n") {
		return s == "::1" // the one loopback literal url.Hostname gives with colons
	}
	return strings.TrimSpace(s) != ""
}

// validRedirectURI applies RFC 6749 §3.1.2: absolute, no fragment; and RFC
// 9700 §2.1: https except for loopback development hosts.
func validRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("does not parse")
	case !u.IsAbs() || u.Host == "":
		return fmt.Errorf("is not absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("has a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("must use https (http only on localhost)")
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// NewClientSecret returns a fresh secret to show once and its hash to store.
// 32 random bytes leave nothing to guess, so a plain SHA-256 is enough at
// rest and keeps the token endpoint fast (a password hash would not).
func NewClientSecret() (secret, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashClientSecret(secret)
}

// HashClientSecret is the stored form of a client secret.
func HashClientSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ClientSecretMatches compares in constant time.
func ClientSecretMatches(hash, secret string) bool {
	if hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashClientSecret(secret))) == 1
}

// ApplyClientUpdate is the part of ClientStore.UpdateClient every store
// shares: it runs fn on a copy of old, refuses a changed id or an invalid
// result, and stamps the new version.
func ApplyClientUpdate(old Client, fn func(*Client) error, now time.Time) (Client, error) {
	c := old
	c.RedirectURIs = slices.Clone(old.RedirectURIs)
	c.Scopes = slices.Clone(old.Scopes)
	c.GrantTypes = slices.Clone(old.GrantTypes)
	c.PostLogoutRedirectURIs = slices.Clone(old.PostLogoutRedirectURIs)
	c.ProcedureAreas = slices.Clone(old.ProcedureAreas)
	c.ExchangeAudiences = slices.Clone(old.ExchangeAudiences)
	if err := fn(&c); err != nil {
		return old, err
	}
	c.Normalize()
	if c.ID != old.ID {
		return old, invalid("client_id", "the client id cannot change")
	}
	if err := c.Validate(); err != nil {
		return old, err
	}
	c.CreatedAt, c.UpdatedAt, c.Version = old.CreatedAt, now.UTC().Truncate(time.Microsecond), old.Version+1
	return c, nil
}
