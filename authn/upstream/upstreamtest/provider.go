package upstreamtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// Settings are what the provider answers; change them with Provider.Set.
type Settings struct {
	// IssParam: the metadata says authorization_response_iss_parameter_supported.
	IssParam bool
	// Nonce is the nonce the ID token carries: the last authorization
	// request's, unless a test sets another.
	Nonce string
	// Subject is the sub of the ID token and of userinfo; InfoSub, when
	// set, is userinfo's instead.
	Subject, InfoSub string
	// Claims are added to the ID token and to userinfo.
	Claims map[string]any
	// Tweak changes the ID token's claims before they are signed.
	Tweak func(c map[string]any)
	// SignWith signs the ID token with another key than the published one.
	SignWith *ecdsa.PrivateKey
	// TokenError is an OAuth error code the token endpoint answers.
	TokenError string
	// ClientID is the audience of the ID token.
	ClientID string
}

// Provider is the test's OpenID provider.
type Provider struct {
	URL string
	srv *httptest.Server
	key *ecdsa.PrivateKey

	mu sync.Mutex
	s  Settings
	// LoggedOut counts the logouts the provider received.
	loggedOut int
}

// New starts a provider for the client clientID; it stops when t ends.
func New(t testing.TB, clientID string) *Provider {
	t.Helper()
	p := &Provider{s: Settings{Subject: "fc-sub-1", ClientID: clientID, Claims: map[string]any{}}}
	p.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", p.authorize)
	mux.HandleFunc("/token", p.token)
	mux.HandleFunc("/userinfo", p.userinfo)
	mux.HandleFunc("/logout", p.logout)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Close stops the provider: it is down.
func (p *Provider) Close() { p.srv.Close() }

// Set changes what the provider answers.
func (p *Provider) Set(fn func(s *Settings)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.s)
}

// LoggedOut says how many logouts the provider received.
func (p *Provider) LoggedOut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loggedOut
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	iss := p.URL
	_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
		"userinfo_endpoint": iss + "/userinfo", "jwks_uri": iss + "/jwks", "end_session_endpoint": iss + "/logout",
		"id_token_signing_alg_values_supported": []string{"ES256"}, "authorization_response_iss_parameter_supported": p.s.IssParam})
}

// authorize logs the person in at once and sends the browser back with a
// code, the state and iss, keeping the request's nonce.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.s.Nonce = q.Get("nonce")
	p.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := url.Values{"code": {"the-code"}, "state": {q.Get("state")}, "iss": {p.URL}}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if p.s.TokenError != "" {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": p.s.TokenError})
		return
	}
	now := time.Now()
	c := map[string]any{"iss": p.URL, "sub": p.s.Subject, "aud": p.s.ClientID, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(),
		"nonce": p.s.Nonce, "acr": "eidas2", "amr": []string{"pwd", "mfa"}}
	for k, v := range p.s.Claims {
		c[k] = v
	}
	if p.s.Tweak != nil {
		p.s.Tweak(c)
	}
	key := p.key
	if p.s.SignWith != nil {
		key = p.s.SignWith
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	raw, err := josejwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": raw})
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := map[string]any{"sub": p.s.Subject}
	if p.s.InfoSub != "" {
		c["sub"] = p.s.InfoSub
	}
	for k, v := range p.s.Claims {
		c[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(c)
}

// logout ends the provider's session and sends the browser back with the
// state.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.loggedOut++
	p.mu.Unlock()
	back, err := url.Parse(q.Get("post_logout_redirect_uri"))
	if err != nil || q.Get("id_token_hint") == "" {
		http.Error(w, "bad logout request", http.StatusBadRequest)
		return
	}
	back.RawQuery = url.Values{"state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}
