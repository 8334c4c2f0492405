package upstream

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// Config is one upstream provider as the deployment configured it.
type Config struct {
	Name         string // authn.UpstreamFranceConnect or authn.UpstreamProConnect
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	ACRValues    string // sent as acr_values when not empty
	// RedirectURL is Relais's return address, registered at the provider.
	RedirectURL string
	// LogoutReturnURL is where the provider sends the browser back after
	// its logout (post_logout_redirect_uri), registered at the provider.
	LogoutReturnURL string
	// SelfSignUp opens an account for a person the identité pivot finds
	// nowhere; without it such a person is refused (no_match).
	SelfSignUp bool
	// HTTPClient talks to the provider. Default: a client with a 10 s
	// timeout; a client without a timeout is given one.
	HTTPClient *http.Client
	// LoginTTL bounds the time between the way there and the way back.
	// Default 10 minutes.
	LoginTTL time.Duration
	Now      func() time.Time
}

// Stores is what a Client reads and writes; every one is required.
type Stores struct {
	Logins  authn.UpstreamLoginStore
	Links   authn.UpstreamLinkStore
	Persons mandates.PersonStore
	Pivots  mandates.PivotStore
	Tx      mandates.Transactor
	Events  mandates.EventSink
	// Orgs finds an organisation by its SIRET and a person's membership:
	// required for ProConnect.
	Orgs OrgStore
}

// OrgStore is what a ProConnect login reads of the organisations.
type OrgStore interface {
	mandates.SIRETStore
	Membership(ctx context.Context, organisationID, personID string) (mandates.Membership, error)
}

// Client is Relais as a client of one upstream provider.
type Client struct {
	cfg  Config
	st   Stores
	http *http.Client

	mu   sync.Mutex
	disc *discovered // nil until the provider answered once
}

// discovered is what the provider's metadata says, fetched once.
type discovered struct {
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string
	issParam   bool // authorization_response_iss_parameter_supported
	userinfo   bool
}

// discoveryTimeout bounds the wait for the provider's metadata, so that a
// provider that is slow gives the person a page quickly.
const discoveryTimeout = 5 * time.Second

// New makes a client of the provider cfg describes. It does not contact
// the provider: the metadata is fetched at the first login.
func New(cfg Config, st Stores) (*Client, error) {
	if cfg.Name == "" || cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("upstream: a provider needs a name, an issuer, a client id and a return address")
	}
	if st.Logins == nil || st.Links == nil || st.Persons == nil || st.Pivots == nil || st.Tx == nil || st.Events == nil {
		return nil, errors.New("upstream: every store and the event sink are required: every refusal is journaled")
	}
	if cfg.Name == authn.UpstreamProConnect && st.Orgs == nil {
		return nil, errors.New("upstream: ProConnect needs the organisations, to match a membership")
	}
	if cfg.LoginTTL <= 0 {
		cfg.LoginTTL = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	if hc.Timeout <= 0 {
		c := *hc
		c.Timeout = 10 * time.Second
		hc = &c
	}
	return &Client{cfg: cfg, st: st, http: hc}, nil
}

// Name is the provider's name: authn.UpstreamFranceConnect…
func (c *Client) Name() string { return c.cfg.Name }

// clientContext carries the client's own http.Client to go-oidc and
// x/oauth2.
func (c *Client) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.http)
}

// discover fetches the provider's metadata the first time it is needed;
// a failure is not kept, so the next login tries again.
func (c *Client) discover(ctx context.Context) (*discovered, error) {
	c.mu.Lock()
	d := c.disc
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	// go-oidc keeps this context to fetch the provider's keys later: it
	// must outlive the request, and the http.Client's timeout bounds it.
	keep := c.clientContext(context.WithoutCancel(ctx))
	type result struct {
		p   *oidc.Provider
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := oidc.NewProvider(keep, c.cfg.Issuer)
		done <- result{p, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(discoveryTimeout):
		return nil, fmt.Errorf("discovery of %s: no answer within %s", c.cfg.Issuer, discoveryTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", c.cfg.Issuer, r.err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
		IssParam   bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if err := r.p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", c.cfg.Issuer, err)
	}
	d = &discovered{
		provider:   r.p,
		verifier:   r.p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now}),
		endSession: meta.EndSession,
		issParam:   meta.IssParam,
		userinfo:   r.p.UserInfoEndpoint() != "",
		oauth: oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
			Scopes: c.cfg.Scopes, Endpoint: r.p.Endpoint()},
	}
	c.mu.Lock()
	c.disc = d
	c.mu.Unlock()
	return d, nil
}

// Start begins a login: it records the login in the store and returns the
// provider's address to send the browser to, and the value of the cookie
// that binds the way back to this browser. A provider that cannot be
// reached is a refusal (unavailable), journaled.
func (c *Client) Start(ctx context.Context, returnTo string) (redirect, binding string, err error) {
	d, err := c.discover(ctx)
	if err != nil {
		return "", "", c.refuse(ctx, ReasonUnavailable, nil, err)
	}
	state, binding := randomToken(), randomToken()
	now := c.cfg.Now().UTC()
	err = c.st.Logins.SaveUpstreamLogin(ctx, authn.UpstreamLogin{StateHash: hash(state), Provider: c.cfg.Name,
		Purpose: authn.UpstreamPurposeLogin, BindingHash: hash(binding), Return: returnTo, CreatedAt: now, ExpiresAt: now.Add(c.cfg.LoginTTL)})
	if err != nil {
		return "", "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifierOf(binding)), oidc.Nonce(nonceOf(binding))}
	if c.cfg.ACRValues != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", c.cfg.ACRValues))
	}
	return d.oauth.AuthCodeURL(state, opts...), binding, nil
}

// Identity is who the provider says logged in, checked.
type Identity struct {
	Provider string
	Subject  string // the provider's sub
	Claims   Claims
	ACR      string
	AMR      []string
	// IDToken is the provider's ID token as received, kept for the
	// provider's logout (id_token_hint).
	IDToken string
	// Return is where the person was going when they left.
	Return string
}

// Claims are the identity claims Relais reads, by FranceConnect's and
// ProConnect's names.
type Claims struct {
	GivenName    string `json:"given_name"`
	FamilyName   string `json:"family_name"`
	Birthdate    string `json:"birthdate"`
	Gender       string `json:"gender"`
	Birthplace   string `json:"birthplace"`
	Birthcountry string `json:"birthcountry"`
	Email        string `json:"email"`
	SIRET        string `json:"siret"`
}

// merge fills c's empty fields from o.
func (c *Claims) merge(o Claims) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&c.GivenName, o.GivenName}, {&c.FamilyName, o.FamilyName}, {&c.Birthdate, o.Birthdate}, {&c.Gender, o.Gender},
		{&c.Birthplace, o.Birthplace}, {&c.Birthcountry, o.Birthcountry}, {&c.Email, o.Email}, {&c.SIRET, o.SIRET},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
}

// Person is the identité pivot the claims give, as a person's record.
func (c Claims) Person() mandates.Person {
	p := mandates.Person{GivenNames: strings.TrimSpace(c.GivenName), FamilyName: strings.TrimSpace(c.FamilyName),
		BirthPlace: mandates.Place{Code: strings.TrimSpace(c.Birthplace)}, BirthCountry: strings.TrimSpace(c.Birthcountry),
		Gender: mandates.Gender(c.Gender), Email: strings.TrimSpace(c.Email)}
	if d, err := time.Parse(time.DateOnly, c.Birthdate); err == nil {
		p.BirthDate = d.UTC()
	}
	return p
}

// Finish checks the provider's answer q on Relais's return address and
// returns who logged in. binding is the browser's cookie set by Start. A
// failed check is a *RefusedError, journaled; the person's way back is in
// Identity.Return whenever the login was found.
func (c *Client) Finish(ctx context.Context, q url.Values, binding string) (Identity, error) {
	id := Identity{Provider: c.cfg.Name}
	state := q.Get("state")
	if state == "" {
		return id, c.refuse(ctx, ReasonState, nil, errors.New("no state"))
	}
	login, err := c.st.Logins.TakeUpstreamLogin(ctx, hash(state), c.cfg.Now())
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return id, c.refuse(ctx, ReasonState, nil, err)
	case errors.Is(err, authn.ErrUpstreamLoginUsed):
		return id, c.refuse(ctx, ReasonReplayed, nil, err)
	case err != nil:
		return id, err
	}
	if login.Provider != c.cfg.Name || login.Purpose != authn.UpstreamPurposeLogin || binding == "" ||
		subtle.ConstantTimeCompare(hash(binding), login.BindingHash) != 1 {
		return id, c.refuse(ctx, ReasonState, nil, errors.New("the state belongs to another browser or provider"))
	}
	id.Return = login.Return
	if !c.cfg.Now().Before(login.ExpiresAt) {
		return id, c.refuse(ctx, ReasonExpired, nil, errors.New("the login took too long"))
	}
	if q.Get("error") != "" {
		return id, ErrCancelled
	}
	d, err := c.discover(ctx)
	if err != nil {
		return id, c.refuse(ctx, ReasonUnavailable, nil, err)
	}
	// RFC 9207 §2.4: an iss that is not this provider's is a mix-up; a
	// provider that says it sends iss must send it.
	if iss, ok := q["iss"]; ok {
		if len(iss) != 1 || iss[0] != c.cfg.Issuer {
			return id, c.refuse(ctx, ReasonIssuer, nil, errors.New("iss names another issuer"))
		}
	} else if d.issParam {
		return id, c.refuse(ctx, ReasonIssuer, nil, errors.New("iss missing, though the provider sends it"))
	}
	code := q.Get("code")
	if code == "" {
		return id, c.refuse(ctx, ReasonForged, nil, errors.New("no code"))
	}
	octx := c.clientContext(ctx)
	tok, err := d.oauth.Exchange(octx, code, oauth2.VerifierOption(verifierOf(binding)))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return id, c.refuse(ctx, ReasonReplayed, nil, err)
		}
		return id, c.refuse(ctx, ReasonUnavailable, nil, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return id, c.refuse(ctx, ReasonForged, nil, errors.New("no ID token"))
	}
	// An ID token of another issuer is a mix-up, told apart from a bad
	// signature before go-oidc checks everything.
	if iss, ok := unverifiedIssuer(raw); ok && iss != c.cfg.Issuer {
		return id, c.refuse(ctx, ReasonIssuer, nil, errors.New("the ID token names another issuer"))
	}
	idt, err := d.verifier.Verify(octx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return id, c.refuse(ctx, ReasonExpired, nil, err)
		}
		return id, c.refuse(ctx, ReasonForged, nil, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonceOf(binding))) != 1 {
		return id, c.refuse(ctx, ReasonNonce, nil, errors.New("the nonce is not this login's"))
	}
	var tc struct {
		Claims
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&tc); err != nil {
		return id, c.refuse(ctx, ReasonForged, nil, err)
	}
	id.Subject, id.ACR, id.AMR, id.IDToken, id.Claims = idt.Subject, tc.ACR, tc.AMR, raw, tc.Claims
	if d.userinfo {
		info, err := d.provider.UserInfo(octx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return id, c.refuse(ctx, ReasonUnavailable, nil, err)
		}
		// OIDC Core §5.3.2: an answer about someone else is not used.
		if info.Subject != idt.Subject {
			return id, c.refuse(ctx, ReasonForged, nil, errors.New("userinfo is about another sub"))
		}
		var uc Claims
		if err := info.Claims(&uc); err != nil {
			return id, c.refuse(ctx, ReasonForged, nil, err)
		}
		uc.merge(id.Claims)
		id.Claims = uc
	}
	return id, nil
}

// unverifiedIssuer reads iss from a JWT's payload without checking it.
func unverifiedIssuer(raw string) (string, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var p struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &p) != nil {
		return "", false
	}
	return p.Iss, true
}

// ErrCancelled: the person stopped at the provider (it answered with an
// error, such as access_denied). Nothing was refused: nothing is journaled.
var ErrCancelled = errors.New("upstream: the login was stopped at the provider")

// ErrNoLogout: the provider publishes no end_session_endpoint.
var ErrNoLogout = errors.New("upstream: the provider has no logout endpoint")

// LogoutURL is the provider's logout address for a session opened with
// idToken (RP-Initiated Logout 1.0 §2): id_token_hint, a state kept in the
// store with back (what Relais does once the browser returns), and Relais's
// return address.
func (c *Client) LogoutURL(ctx context.Context, idToken, back string) (string, error) {
	d, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	if d.endSession == "" {
		return "", ErrNoLogout
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return "", fmt.Errorf("end_session_endpoint: %w", err)
	}
	state := randomToken()
	now := c.cfg.Now().UTC()
	err = c.st.Logins.SaveUpstreamLogin(ctx, authn.UpstreamLogin{StateHash: hash(state), Provider: c.cfg.Name,
		Purpose: authn.UpstreamPurposeLogout, BindingHash: hash(state), Return: back, CreatedAt: now, ExpiresAt: now.Add(c.cfg.LoginTTL)})
	if err != nil {
		return "", err
	}
	v := u.Query()
	v.Set("id_token_hint", idToken)
	v.Set("state", state)
	v.Set("client_id", c.cfg.ClientID)
	if c.cfg.LogoutReturnURL != "" {
		v.Set("post_logout_redirect_uri", c.cfg.LogoutReturnURL)
	}
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// FinishLogout returns what LogoutURL kept for state, once; ok is false for
// an unknown, used or expired state (the browser is then simply told it is
// logged out).
func (c *Client) FinishLogout(ctx context.Context, state string) (back string, ok bool, err error) {
	if state == "" {
		return "", false, nil
	}
	l, err := c.st.Logins.TakeUpstreamLogin(ctx, hash(state), c.cfg.Now())
	switch {
	case errors.Is(err, mandates.ErrNotFound), errors.Is(err, authn.ErrUpstreamLoginUsed):
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	if l.Purpose != authn.UpstreamPurposeLogout || l.Provider != c.cfg.Name || !c.cfg.Now().Before(l.ExpiresAt) {
		return "", false, nil
	}
	return l.Return, true, nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// verifierOf and nonceOf derive the PKCE verifier and the nonce from the
// browser's cookie, which the store never sees: a copy of the database
// cannot finish a login on the way.
func verifierOf(binding string) string { return derive("relais upstream pkce", binding) }
func nonceOf(binding string) string    { return derive("relais upstream nonce", binding) }

func derive(label, binding string) string {
	sum := sha256.Sum256([]byte(label + "\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
