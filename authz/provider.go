package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/par"
	"github.com/ory/fosite/handler/pkce"
	fositehmac "github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// ProviderConfig is what the OpenID provider needs to know; cmd/relais
// fills it from its settings.
type ProviderConfig struct {
	Issuer string
	// SecretKey (32 bytes, RELAIS_SECRET_KEY) derives the HMAC key of codes
	// and refresh tokens and the pairwise-subject salt, so every instance
	// sharing it accepts the others' tokens.
	SecretKey       []byte
	CodeTTL         time.Duration // default 60 s (RFC 9700 §4.2.1: short-lived)
	AccessTokenTTL  time.Duration // default 10 min
	IDTokenTTL      time.Duration // default 10 min
	RefreshTokenTTL time.Duration // default 30 days
	// ClientCacheTTL is how long every endpoint may use a client record
	// read earlier (client_cache.go says what that means); 0 reads the
	// store at every request, except at the access endpoints, which
	// always keep records for ClientCacheTTL.
	ClientCacheTTL time.Duration
	Now            func() time.Time
}

// Stores is what the provider reads and writes.
type Stores struct {
	Clients oauth.ClientStore
	Tokens  oauth.TokenStore
	Persons mandates.PersonStore
	Tx      mandates.Transactor
	// Subjects records the pairwise subjects issued; without it, sites
	// cannot name people to the access evaluation endpoint.
	Subjects oauth.SubjectStore
	// Delegation is the representation service; without it, nobody acts
	// for anyone else.
	Delegation Delegation
	// Events journals the provider's acts (tokens issued, exchanged,
	// revoked, refresh-token reuse) in the transaction of each act (Tx).
	// Required, as Tx is: NewProvider refuses a nil one.
	Events mandates.EventSink
	// Proofs records the DPoP proofs used (dpop.go); nil: the token
	// store's, which every Relais store implements.
	Proofs oauth.ProofStore
	// FirstActs remembers the first time each actor acts for a person at
	// a site (first_act.go); nil: the token store's, which every Relais
	// store implements.
	FirstActs mandates.FirstActStore
}

// Provider is Relais's OpenID provider: fosite's handlers composed with
// Relais's storage adapter, signer and claims.
type Provider struct {
	cfg        ProviderConfig
	log        *slog.Logger
	oauth      fosite.OAuth2Provider
	accessAuth *fosite.Fosite // authenticates the access endpoints' clients (client_cache.go)
	fconf      *fosite.Config
	storage    *fositeStorage
	keys       *keyring.Keys
	persons    mandates.PersonStore
	clients    oauth.ClientStore
	atSigner   *Signer
	pairwise   []byte
	subjects   oauth.SubjectStore
	delegation Delegation
	choiceKey  []byte
	dpop       *dpop
	pageBox    *keyring.SecretBox // seals the AuthZEN searches' page tokens

	subjectPersons subjectCache // pairwise subjects already read (subjects.go)

	discoveryOnce sync.Once
	discoveryDoc  []byte      // the discovery document, encoded once
	jwksJSON      encodedKeys // the key set last served, encoded
}

// derive gives each use of the secret key its own key (HMAC as a simple
// KDF, RFC 5869's extract step with a label).
func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("relais/" + label))
	return m.Sum(nil)
}

// NewProvider wires fosite's handlers by hand, with typed fields, rather
// than through compose's interface{} factories, so the compiler checks what
// compose would only assert at run time (STYLE-ANCHORS.md).
func NewProvider(cfg ProviderConfig, st Stores, keys *keyring.Keys, log *slog.Logger) (*Provider, error) {
	if len(cfg.SecretKey) != 32 {
		return nil, errors.New("authz: the secret key must be 32 bytes")
	}
	if cfg.Issuer == "" {
		return nil, errors.New("authz: the issuer is required")
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = 60 * time.Second
	}
	if cfg.AccessTokenTTL <= 0 {
		cfg.AccessTokenTTL = 10 * time.Minute
	}
	if cfg.IDTokenTTL <= 0 {
		cfg.IDTokenTTL = 10 * time.Minute
	}
	if cfg.RefreshTokenTTL <= 0 {
		cfg.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if st.Proofs == nil {
		st.Proofs, _ = st.Tokens.(oauth.ProofStore)
	}
	if st.Proofs == nil {
		return nil, errors.New("authz: a store for DPoP proofs is required")
	}
	ev, err := newEvents(st.Events, st.Tx)
	if err != nil {
		return nil, err
	}
	if st.FirstActs == nil {
		st.FirstActs, _ = st.Tokens.(mandates.FirstActStore)
	}
	if st.FirstActs == nil {
		return nil, ErrNoFirstActs
	}
	if cfg.ClientCacheTTL > 0 {
		st.Clients = cachedClients{st.Clients, newClientCache(cfg.Now, cfg.ClientCacheTTL)}
	}
	fstore := &fositeStorage{clients: st.Clients, tokens: st.Tokens, tx: st.Tx, now: cfg.Now, ev: ev, firstActs: st.FirstActs,
		grouped: newTokenGroup(st.Tokens, st.Tx)}
	fconf := &fosite.Config{
		AccessTokenLifespan:             cfg.AccessTokenTTL,
		RefreshTokenLifespan:            cfg.RefreshTokenTTL,
		AuthorizeCodeLifespan:           cfg.CodeTTL,
		IDTokenLifespan:                 cfg.IDTokenTTL,
		IDTokenIssuer:                   cfg.Issuer,
		AccessTokenIssuer:               cfg.Issuer,
		TokenURL:                        cfg.Issuer + "/token",
		ScopeStrategy:                   fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:        fosite.ExactAudienceMatchingStrategy,
		EnforcePKCE:                     true,  // RFC 9700 §2.1.1: every client
		EnablePKCEPlainChallengeMethod:  false, // S256 only
		SendDebugMessagesToClients:      false,
		RefreshTokenScopes:              []string{"offline_access"},
		JWTScopeClaimKey:                jwt.JWTScopeFieldString, // RFC 9068 §2.2.3: scope as a string
		ClientSecretsHasher:             secretHasher{},
		GlobalSecret:                    derive(cfg.SecretKey, "fosite-hmac"),
		PushedAuthorizeRequestURIPrefix: "urn:ietf:params:oauth:request_uri:",
		PushedAuthorizeContextLifespan:  90 * time.Second,
		MinParameterEntropy:             fosite.MinParameterEntropy,
		AllowedPromptValues:             []string{"login", "none", "consent"},
		RedirectSecureChecker:           fosite.IsRedirectURISecureStrict,
	}

	atSigner, err := NewSigner(keys, keyring.ES256)
	if err != nil {
		return nil, err
	}
	hmacStrategy := oauth2.NewHMACSHAStrategy(&fositehmac.HMACStrategy{Config: fconf}, fconf)
	jwtStrategy := &accessTokenStrategy{&oauth2.DefaultJWTStrategy{Signer: atSigner, HMACSHAStrategy: hmacStrategy, Config: fconf}, atSigner, newVerifiedTokens()}
	idStrategy, err := newIDTokenStrategy(keys, fconf)
	if err != nil {
		return nil, err
	}
	validator := openid.NewOpenIDConnectRequestValidator(atSigner, fconf)
	idHelper := &openid.IDTokenHandleHelper{IDTokenStrategy: idStrategy}
	helper := &oauth2.HandleHelper{AccessTokenStrategy: jwtStrategy, AccessTokenStorage: fstore, Config: fconf}

	code := &oauth2.AuthorizeExplicitGrantHandler{
		AccessTokenStrategy: jwtStrategy, RefreshTokenStrategy: hmacStrategy, AuthorizeCodeStrategy: hmacStrategy,
		CoreStorage: fstore, TokenRevocationStorage: fstore, Config: fconf,
	}
	refresh := &oauth2.RefreshTokenGrantHandler{
		AccessTokenStrategy: jwtStrategy, RefreshTokenStrategy: hmacStrategy, TokenRevocationStorage: fstore, Config: fconf,
	}
	clientCredentials := clientCredentialsGrant{&oauth2.ClientCredentialsGrantHandler{HandleHelper: helper, Config: fconf}}
	oidcCode := &openid.OpenIDConnectExplicitHandler{
		IDTokenHandleHelper: idHelper, OpenIDConnectRequestStorage: fstore, OpenIDConnectRequestValidator: validator, Config: fconf,
	}
	oidcRefresh := &openid.OpenIDConnectRefreshHandler{IDTokenHandleHelper: idHelper, Config: fconf}
	pkceHandler := &pkce.Handler{AuthorizeCodeStrategy: hmacStrategy, Storage: fstore, Config: fconf}
	introspection := &oauth2.CoreValidator{CoreStrategy: jwtStrategy, CoreStorage: fstore, Config: fconf}
	revocation := &oauth2.TokenRevocationHandler{TokenRevocationStorage: fstore, AccessTokenStrategy: jwtStrategy,
		RefreshTokenStrategy: hmacStrategy}
	pushed := &par.PushedAuthorizeHandler{Storage: fstore, Config: fconf}
	exchange := &tokenExchange{helper: helper} // its provider is set below

	// Order matters: PKCE and OpenID Connect run after the code handler has
	// issued the code they attach to.
	fconf.AuthorizeEndpointHandlers = fosite.AuthorizeEndpointHandlers{code, pkceHandler, oidcCode}
	fconf.TokenEndpointHandlers = fosite.TokenEndpointHandlers{code, refresh, clientCredentials, exchange, pkceHandler, oidcCode, oidcRefresh}
	fconf.TokenIntrospectionHandlers = fosite.TokenIntrospectionHandlers{introspection}
	fconf.RevocationHandlers = fosite.RevocationHandlers{revocation}
	fconf.PushedAuthorizeEndpointHandlers = fosite.PushedAuthorizeEndpointHandlers{pushed}

	p := &Provider{
		cfg: cfg, log: log, oauth: fosite.NewOAuth2Provider(fstore, fconf), fconf: fconf, storage: fstore, keys: keys,
		accessAuth: &fosite.Fosite{Store: accessStorage(fstore, cfg), Config: fconf},
		persons:    st.Persons, clients: st.Clients, atSigner: atSigner, pairwise: derive(cfg.SecretKey, "pairwise-subject"),
		subjects: st.Subjects, delegation: st.Delegation, choiceKey: derive(cfg.SecretKey, "acting-choice"),
		dpop: newDPoP(cfg.Issuer, cfg.SecretKey, st.Proofs, cfg.Now),
	}
	if p.pageBox, err = keyring.NewSecretBox(derive(cfg.SecretKey, "authzen-search-page")); err != nil {
		return nil, err
	}
	exchange.p = p
	idStrategy.encrypt = p.encryptIDToken
	return p, nil
}

// idTokenStrategy signs each ID token with the algorithm its client
// registered: ES256 by default, RS256 for older sites.
type idTokenStrategy struct {
	byAlg map[string]*openid.DefaultStrategy
	// encrypt encrypts the signed token for a client that asked for it
	// (encryption.go).
	encrypt func(ctx context.Context, c oauth.Client, jws string) (string, error)
}

func newIDTokenStrategy(keys *keyring.Keys, fconf *fosite.Config) (*idTokenStrategy, error) {
	s := &idTokenStrategy{byAlg: map[string]*openid.DefaultStrategy{}}
	for _, alg := range keyring.SigningAlgs {
		signer, err := NewSigner(keys, alg)
		if err != nil {
			return nil, err
		}
		s.byAlg[alg] = &openid.DefaultStrategy{Signer: signer, Config: fconf}
	}
	return s, nil
}

func (s *idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	alg := keyring.ES256
	if fc, ok := r.GetClient().(*fositeClient); ok && fc.c.IDTokenSignedResponseAlg != "" {
		alg = fc.c.IDTokenSignedResponseAlg
	}
	st, ok := s.byAlg[alg]
	if !ok {
		return "", fmt.Errorf("authz: no signer for %s", alg)
	}
	jws, err := st.GenerateIDToken(ctx, lifespan, r)
	if err != nil {
		return "", err
	}
	fc, ok := r.GetClient().(*fositeClient)
	if !ok || !fc.c.EncryptsIDToken() {
		return jws, nil
	}
	if s.encrypt == nil {
		// Never an ID token in clear to a client that asked for it encrypted.
		return "", fosite.ErrServerError.WithDebug("authz: no encrypter for ID tokens")
	}
	return s.encrypt(ctx, fc.c, jws)
}
