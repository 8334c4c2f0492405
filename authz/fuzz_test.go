package authz_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite"
)

// The fuzz tests call the handlers directly, not through a server: net/http
// would recover a panic into a closed connection, and a direct call lets
// the fuzzer see it. Inputs a real server could not receive (control bytes
// in a header or in the request target) are dropped, since net/http
// refuses them before any handler runs.

// fuzzIssuer is never dialled: the handlers are called in process.
const fuzzIssuer = "https://relais.example"

// Client ids of the fuzz fixture: a confidential site (client_secret_basic,
// like newFlow's), a public one (none) and one that signs client assertions
// (private_key_jwt, RFC 7523).
const (
	fuzzSecretClient = "caf"
	fuzzPublicClient = "app"
	fuzzKeyClient    = "impots"
)

const (
	fuzzSecretRedirect = "http://127.0.0.1/cb"
	fuzzPublicRedirect = "http://127.0.0.1/app"
	jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// fuzzTarget is the provider on a fresh SQLite store with its protocol
// routes and newFlow's authorization endpoint (one person, always logged
// in), built for a testing.TB so that a fuzz function can own it.
type fuzzTarget struct {
	handler   http.Handler
	secret    string            // fuzzSecretClient's client secret
	clientKey *ecdsa.PrivateKey // fuzzKeyClient's signing key, kid "k1"
	redirects map[string]bool   // every registered redirect URI
}

func newFuzzTarget(tb testing.TB) *fuzzTarget {
	tb.Helper()
	ctx := tb.Context()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "relais.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	mig, err := st.Migrations()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := mig.Up(ctx); err != nil {
		tb.Fatal(err)
	}
	mig.Close()

	key := make([]byte, 32)
	rand.Read(key)
	box, err := keyring.NewSecretBox(key)
	if err != nil {
		tb.Fatal(err)
	}
	keys := keyring.NewKeys(st, box, time.Now, time.Hour, 31*24*time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		tb.Fatal(err)
	}
	person := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Jeanne", FamilyName: "Lefèvre",
		BirthDate: mandates.Date(1941, 3, 12), Email: "jeanne@example.fr", Language: "fr"}
	if err := st.CreatePerson(ctx, person); err != nil {
		tb.Fatal(err)
	}

	ft := &fuzzTarget{redirects: map[string]bool{fuzzSecretRedirect: true, fuzzPublicRedirect: true}}
	var hash string
	ft.secret, hash = oauth.NewClientSecret()
	ft.clientKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ft.clientKey.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range []oauth.Client{
		{ID: fuzzSecretClient, Name: "CAF", RedirectURIs: []string{fuzzSecretRedirect},
			Scopes:     []string{"openid", "profile", "email", "identite_pivot", "offline_access"},
			GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}, SectorIdentifier: "caf.example.fr", SecretHash: hash},
		{ID: fuzzPublicClient, Name: "Application", RedirectURIs: []string{fuzzPublicRedirect}, Scopes: []string{"openid", "offline_access"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, SectorIdentifier: "app.example.fr", TokenEndpointAuthMethod: oauth.AuthMethodNone},
		{ID: fuzzKeyClient, Name: "Impôts", Scopes: []string{"openid"}, GrantTypes: []string{"client_credentials"},
			SectorIdentifier: "impots.gouv.fr", TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT, JWKS: string(pub)},
	} {
		if err := st.CreateClient(ctx, c); err != nil {
			tb.Fatalf("client %s: %v", c.ID, err)
		}
	}

	provider, err := authz.NewProvider(authz.ProviderConfig{Issuer: fuzzIssuer, SecretKey: key},
		authz.Stores{Clients: st, Tokens: st, Persons: st, Tx: st, Events: mandatestest.Discard{}}, keys, nil)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, e := range provider.Endpoints() {
		mux.Handle(e.Path, e.Handler)
	}
	// newFlow's authorization endpoint.
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		a, err := provider.ParseAuthorize(r.Context(), r)
		if err != nil {
			if !provider.AuthorizeError(w, r, a, err) {
				http.Error(w, "error page: "+err.Error(), http.StatusBadRequest)
			}
			return
		}
		provider.Authorize(w, r, a, authz.Login{PersonID: person.ID, AuthTime: time.Now(), AMR: []string{"pwd"}})
	})
	ft.handler = mux
	return ft
}

func (ft *fuzzTarget) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ft.handler.ServeHTTP(rec, r)
	return rec
}

func (ft *fuzzTarget) basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(fuzzSecretClient+":"+ft.secret))
}

// post sends a form to path with the confidential client's Basic auth.
func (ft *fuzzTarget) post(tb testing.TB, path string, form url.Values) (int, map[string]any) {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", ft.basic())
	rec := ft.serve(r)
	m := map[string]any{}
	json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeQuery is a valid authorization request of client to redirect.
func authorizeQuery(client, redirect, scope, verifier string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect}, "scope": {scope},
		"state": {"state-123456"}, "nonce": {"nonce-123456"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}
}

// code runs the authorization endpoint and returns the code it redirects
// with.
func (ft *fuzzTarget) code(tb testing.TB, q url.Values) string {
	tb.Helper()
	rec := ft.serve(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		tb.Fatalf("authorize: %d to %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	return loc.Query().Get("code")
}

// tokens runs the code flow of the confidential client and returns its
// answer.
func (ft *fuzzTarget) tokens(tb testing.TB) map[string]any {
	tb.Helper()
	verifier := strings.Repeat("v", 43)
	code := ft.code(tb, authorizeQuery(fuzzSecretClient, fuzzSecretRedirect, "openid offline_access", verifier))
	status, m := ft.post(tb, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {fuzzSecretRedirect}, "code_verifier": {verifier}})
	if status != http.StatusOK || m["refresh_token"] == nil {
		tb.Fatalf("code exchange: %d %v", status, m)
	}
	return m
}

// assertion is an RFC 7523 §2.2 client assertion of fuzzKeyClient for the
// token endpoint.
func (ft *fuzzTarget) assertion(tb testing.TB) string {
	tb.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ft.clientKey},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	jti := make([]byte, 16)
	rand.Read(jti)
	raw, err := josejwt.Signed(signer).Claims(josejwt.Claims{Issuer: fuzzKeyClient, Subject: fuzzKeyClient,
		Audience: josejwt.Audience{fuzzIssuer + "/token"}, ID: base64.RawURLEncoding.EncodeToString(jti),
		IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(5 * time.Minute))}).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// forged returns an unsigned JWT (alg none) and an HS256 one keyed with
// nothing, both naming kid, for endpoints that must refuse them.
func forged(kid string, claims map[string]any) (none, hs256 string) {
	payload, _ := json.Marshal(claims)
	seg := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	hNone, _ := json.Marshal(map[string]string{"alg": "none", "kid": kid, "typ": "JWT"})
	hHS, _ := json.Marshal(map[string]string{"alg": "HS256", "kid": kid, "typ": "at+jwt"})
	return seg(hNone) + "." + seg(payload) + ".", seg(hHS) + "." + seg(payload) + "." + seg([]byte("not a mac"))
}

// Endpoints FuzzTokenEndpoint reaches, by the first argument modulo 4.
var fuzzTokenPaths = []string{"/token", "/introspect", "/revoke", "/par"}

// tokenInput is one request to a client-authenticated endpoint. want, when
// set, is the status a valid seed must get.
type tokenInput struct {
	name     string
	endpoint uint8
	query    string
	body     string
	auth     string
	ctype    string
	want     int
}

const formType = "application/x-www-form-urlencoded"

// tokenSeeds are valid requests (with live codes and tokens of ft) and
// the malformed ones the issue lists.
func (ft *fuzzTarget) tokenSeeds(tb testing.TB) []tokenInput {
	tb.Helper()
	basic := ft.basic()
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }

	verifier := strings.Repeat("w", 43)
	code := ft.code(tb, authorizeQuery(fuzzSecretClient, fuzzSecretRedirect, "openid offline_access", verifier))
	publicCode := ft.code(tb, authorizeQuery(fuzzPublicClient, fuzzPublicRedirect, "openid", verifier))
	flow := ft.tokens(tb)
	refresh, _ := flow["refresh_token"].(string)
	access, _ := flow["access_token"].(string)
	idToken, _ := flow["id_token"].(string)
	_, cc := ft.post(tb, "/token", url.Values{"grant_type": {"client_credentials"}})
	ccToken, _ := cc["access_token"].(string)
	kid := ""
	if parts := strings.Split(access, "."); len(parts) == 3 {
		if h, err := base64.RawURLEncoding.DecodeString(parts[0]); err == nil {
			var m map[string]any
			json.Unmarshal(h, &m)
			kid, _ = m["kid"].(string)
		}
	}
	none, hs := forged(kid, map[string]any{"iss": fuzzIssuer, "sub": fuzzKeyClient, "aud": fuzzIssuer + "/token",
		"client_id": fuzzSecretClient, "jti": "forged", "exp": time.Now().Add(time.Hour).Unix()})
	par := authorizeQuery(fuzzSecretClient, fuzzSecretRedirect, "openid", verifier)

	var multi bytes.Buffer
	mw := multipart.NewWriter(&multi)
	mw.WriteField("grant_type", "client_credentials")
	mw.WriteField("scope", "openid")
	mw.Close()

	return []tokenInput{
		{"client credentials with HTTP Basic get a token", 0, "", "grant_type=client_credentials&scope=openid", basic, formType, 200},
		{"an authorization code with its PKCE verifier gets tokens", 0, "", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {fuzzSecretRedirect}, "code_verifier": {verifier}}.Encode(), basic, formType, 200},
		{"a public client's code with its verifier gets tokens", 0, "", url.Values{"grant_type": {"authorization_code"}, "client_id": {fuzzPublicClient},
			"code": {publicCode}, "redirect_uri": {fuzzPublicRedirect}, "code_verifier": {verifier}}.Encode(), "", formType, 200},
		{"a refresh token gets new tokens", 0, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}.Encode(), basic, formType, 200},
		{"a private_key_jwt client assertion authenticates its client", 0, "", url.Values{"grant_type": {"client_credentials"}, "client_id": {fuzzKeyClient},
			"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {ft.assertion(tb)}}.Encode(), "", formType, 200},
		{"client credentials in a multipart body get a token", 0, "", multi.String(), basic, mw.FormDataContentType(), 200},
		{"introspection of a live access token answers", 1, "", "token=" + access, basic, formType, 200},
		{"introspection of an ID token answers", 1, "", "token=" + idToken, basic, formType, 200},
		{"revocation of a client-credentials token answers", 2, "", "token=" + ccToken + "&token_type_hint=access_token", basic, formType, 200},
		{"a pushed authorization request gets a request_uri", 3, "", par.Encode(), basic, formType, http.StatusCreated},

		{"an empty body", 0, "", "", "", formType, 0},
		{"an empty body with Basic auth", 0, "", "", basic, formType, 0},
		{"the grant type given twice", 0, "", "grant_type=client_credentials&grant_type=authorization_code&code=x", basic, formType, 0},
		{"two grant types in one value", 0, "", "grant_type=client_credentials+authorization_code", basic, formType, 0},
		{"the grant type in the query only", 0, "grant_type=client_credentials", "", basic, formType, 0},
		{"an unknown grant type", 0, "", "grant_type=password&username=jeanne&password=x", basic, formType, 0},
		{"token exchange, which is not offered yet", 0, "", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=" + access +
			"&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token", basic, formType, 0},
		{"a JWT bearer grant", 0, "", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + none, basic, formType, 0},
		{"a huge scope", 0, "", "grant_type=client_credentials&scope=" + strings.Repeat("openid+", 1<<14), basic, formType, 0},
		{"a body over a mebibyte", 0, "", "grant_type=client_credentials&state=" + strings.Repeat("a", 1<<20+16), basic, formType, 0},
		{"a scope of invalid UTF-8", 0, "", "grant_type=client_credentials&scope=\xff\xfe%C3%28", basic, formType, 0},
		{"a client id of invalid UTF-8", 0, "", "grant_type=client_credentials&client_id=%ff%fe&client_secret=x", "", formType, 0},
		{"a NUL in the client id", 0, "", "grant_type=client_credentials&client_id=caf%00&client_secret=" + ft.secret, "", formType, 0},
		{"another client id in the body than in Basic auth", 0, "", "grant_type=client_credentials&client_id=" + fuzzPublicClient, basic, formType, 0},
		{"a secret posted for a Basic client", 0, "", "grant_type=client_credentials&client_id=caf&client_secret=" + ft.secret, "", formType, 0},
		{"Basic auth that is not base64", 0, "", "grant_type=client_credentials", "Basic !!!not*base64", formType, 0},
		{"Basic auth without a colon", 0, "", "grant_type=client_credentials", b64(fuzzSecretClient), formType, 0},
		{"Basic auth of a lone colon", 0, "", "grant_type=client_credentials", b64(":"), formType, 0},
		{"Basic auth with an empty secret", 0, "", "grant_type=client_credentials", b64(fuzzSecretClient + ":"), formType, 0},
		{"Basic auth with bad percent escapes", 0, "", "grant_type=client_credentials", b64("%zz:%zz%"), formType, 0},
		{"Basic auth of invalid UTF-8", 0, "", "grant_type=client_credentials", b64("\xff\xfe:\xc3\x28"), formType, 0},
		{"the word Basic alone", 0, "", "grant_type=client_credentials", "Basic", formType, 0},
		{"a Bearer token instead of client auth", 0, "", "grant_type=client_credentials", "Bearer " + access, formType, 0},
		{"a wrong secret", 0, "", "grant_type=client_credentials", b64(fuzzSecretClient + ":wrong"), formType, 0},
		{"a code with a wrong verifier", 0, "", "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_verifier=" +
			strings.Repeat("x", 43) + "&code=" + code, basic, formType, 0},
		{"a code of one dot", 0, "", "grant_type=authorization_code&code=.&code_verifier=x", basic, formType, 0},
		{"a refresh token of invalid UTF-8", 0, "", "grant_type=refresh_token&refresh_token=ory_rt_%ff.%ff%00", basic, formType, 0},
		{"a refresh token with a NUL in its signature", 0, "", "grant_type=refresh_token&refresh_token=ory_rt_x.y%00", basic, formType, 0},
		{"an unsigned client assertion", 0, "", "grant_type=client_credentials&client_id=impots&client_assertion_type=" +
			url.QueryEscape(jwtBearerAssertion) + "&client_assertion=" + none, "", formType, 0},
		{"an HS256 client assertion", 0, "", "grant_type=client_credentials&client_assertion_type=" +
			url.QueryEscape(jwtBearerAssertion) + "&client_assertion=" + hs, "", formType, 0},
		{"a client assertion that is not a JWT", 0, "", "grant_type=client_credentials&client_id=impots&client_assertion_type=" +
			url.QueryEscape(jwtBearerAssertion) + "&client_assertion=a.b.c", "", formType, 0},
		{"semicolons between parameters", 0, "", "grant_type=client_credentials;scope=openid", basic, formType, 0},
		{"a malformed percent escape", 0, "", "grant_type=%zz&%", basic, formType, 0},
		{"only separators", 0, "", "=&=&==&&", basic, formType, 0},
		{"a JSON body", 0, "", `{"grant_type":"client_credentials"}`, basic, "application/json", 0},
		{"multipart without a boundary", 0, "", multi.String(), basic, "multipart/form-data", 0},
		{"no content type", 0, "", "grant_type=client_credentials", basic, "", 0},

		{"introspection without a token", 1, "", "", basic, formType, 0},
		{"introspection without client auth", 1, "", "token=" + access, "", formType, 0},
		{"introspection of a refresh token hinted as access", 1, "", "token=" + refresh + "&token_type_hint=access_token", basic, formType, 0},
		{"introspection of an unsigned JWT", 1, "", "token=" + none, basic, formType, 0},
		{"introspection of an HS256 JWT naming the real key", 1, "", "token=" + hs, basic, formType, 0},
		{"introspection of invalid UTF-8", 1, "", "token=%ff.%fe&token_type_hint=%00", basic, formType, 0},
		{"introspection of two tokens", 1, "", "token=" + access + "&token=" + refresh, basic, formType, 0},

		{"revocation without client auth by a public client", 2, "", "client_id=app&token=" + refresh, "", formType, 0},
		{"revocation of a refresh token", 2, "", "token=" + refresh + "&token_type_hint=refresh_token", basic, formType, 0},
		{"revocation with an unknown hint", 2, "", "token=x&token_type_hint=id_token", basic, formType, 0},
		{"revocation without a token", 2, "", "", basic, formType, 0},

		{"a pushed request that carries a request_uri", 3, "", par.Encode() + "&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax", basic, formType, 0},
		{"a pushed request to a foreign redirect", 3, "", strings.ReplaceAll(par.Encode(), "127.0.0.1", "evil.example"), basic, formType, 0},
		{"a pushed request for the implicit flow", 3, "", strings.ReplaceAll(par.Encode(), "response_type=code", "response_type=token"), basic, formType, 0},
		{"a pushed request with plain PKCE", 3, "", strings.ReplaceAll(par.Encode(), "S256", "plain"), basic, formType, 0},
		{"a pushed request without client auth", 3, "", par.Encode(), "", formType, 0},
		{"a pushed request with the state twice", 3, "", par.Encode() + "&state=other-state-123", basic, formType, 0},
	}
}

// validHeader is net/http's rule for a field value (RFC 9110 §5.5): no
// control bytes but tab.
func validHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// newRequest builds what a server would hand the handler, or nil when
// net/http would have refused the request line or a header.
func newRequest(method, path, query, body, auth, ctype string) *http.Request {
	target := path
	if query != "" {
		target += "?" + query
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || strings.ContainsAny(target, " \t") || !validHeader(auth) || !validHeader(ctype) {
		return nil
	}
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.URL, r.RequestURI = u, target
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	return r
}

// leaks names internal text that must never reach a client.
var leaks = []string{"sqlite", "SQL", "goroutine", "panic", "runtime error", "modernc"}

// checkProtocolAnswer asserts what every answer of a client-authenticated
// endpoint owes a client, whatever it was sent.
func checkProtocolAnswer(t *testing.T, path string, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code >= 500 {
		t.Fatalf("%s answered %d: %.500s", path, rec.Code, body)
	}
	if path == "/token" && rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%s answered %d with Cache-Control %q, want no-store (RFC 6749 §5.1)", path, rec.Code, rec.Header().Get("Cache-Control"))
	}
	if rec.Code < 300 {
		if path == "/token" {
			var m struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.AccessToken == "" || m.TokenType == "" {
				t.Errorf("%s answered %d without a token: %.500s", path, rec.Code, body)
			}
		}
		return
	}
	// RFC 6749 §5.2, which RFC 7009 §2.2.1, RFC 7662 §2.3 and RFC 9126
	// §2.3 reuse: a JSON object whose "error" is printable ASCII without
	// '"' or '\'.
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %.500s", path, rec.Code, body)
	}
	code, _ := m["error"].(string)
	if code == "" || strings.ContainsFunc(code, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }) {
		t.Errorf("%s answered %d with error %q: %.500s", path, rec.Code, m["error"], body)
	}
	for _, l := range leaks {
		if strings.Contains(body, l) {
			t.Errorf("%s answered %d with internal text %q: %.500s", path, rec.Code, l, body)
		}
	}
}

// FuzzTokenEndpoint sends arbitrary bodies, query strings and
// Authorization and Content-Type headers to the token, introspection,
// revocation and pushed-authorization endpoints.
func FuzzTokenEndpoint(f *testing.F) {
	ft := newFuzzTarget(f)
	for _, in := range ft.tokenSeeds(f) {
		f.Add(in.endpoint, in.query, in.body, in.auth, in.ctype)
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, query, body, auth, ctype string) {
		path := fuzzTokenPaths[int(endpoint)%len(fuzzTokenPaths)]
		r := newRequest(http.MethodPost, path, query, body, auth, ctype)
		if r == nil {
			return
		}
		checkProtocolAnswer(t, path, ft.serve(r))
	})
}

// authorizeInput is one request to the authorization endpoint: GET with
// query, or POST (post) with query and a body.
type authorizeInput struct {
	name  string
	post  bool
	query string
	body  string
	ctype string
	want  int
}

func (ft *fuzzTarget) authorizeSeeds(tb testing.TB) []authorizeInput {
	tb.Helper()
	verifier := strings.Repeat("p", 43)
	valid := authorizeQuery(fuzzSecretClient, fuzzSecretRedirect, "openid profile", verifier)
	status, m := ft.post(tb, "/par", valid)
	requestURI, _ := m["request_uri"].(string)
	if status != http.StatusCreated || requestURI == "" {
		tb.Fatalf("pushed authorization request: %d %v", status, m)
	}
	flow := ft.tokens(tb)
	idToken, _ := flow["id_token"].(string)
	with := func(k, v string) string {
		q := url.Values{}
		for key, vals := range valid {
			q[key] = append([]string(nil), vals...)
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q.Encode()
	}
	q := valid.Encode()
	return []authorizeInput{
		{"a valid request redirects with a code", false, q, "", "", http.StatusSeeOther},
		{"a valid request posted as a form redirects with a code", true, "", q, formType, http.StatusSeeOther},
		{"a public client's valid request redirects with a code", false,
			authorizeQuery(fuzzPublicClient, fuzzPublicRedirect, "openid offline_access", verifier).Encode(), "", "", http.StatusSeeOther},
		{"a pushed request's request_uri redirects with a code", false,
			url.Values{"client_id": {fuzzSecretClient}, "request_uri": {requestURI}}.Encode(), "", "", http.StatusSeeOther},
		{"an id_token_hint with prompt=none redirects with a code", false, with("prompt", "none") + "&id_token_hint=" + idToken, "", "", http.StatusSeeOther},

		{"no parameters", false, "", "", "", 0},
		{"no PKCE", false, with("code_challenge", ""), "", "", 0},
		{"plain PKCE", false, with("code_challenge_method", "plain"), "", "", 0},
		{"a short code challenge", false, with("code_challenge", "abc"), "", "", 0},
		{"an unknown client", false, with("client_id", "nope"), "", "", 0},
		{"the client id twice", false, q + "&client_id=nope", "", "", 0},
		{"the redirect URI twice", false, q + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", "", "", 0},
		{"a foreign redirect URI", false, with("redirect_uri", "https://evil.example/cb"), "", "", 0},
		{"a redirect URI with a trailing slash", false, with("redirect_uri", fuzzSecretRedirect+"/"), "", "", 0},
		{"a redirect URI with a fragment", false, with("redirect_uri", fuzzSecretRedirect+"#x"), "", "", 0},
		{"no redirect URI", false, with("redirect_uri", ""), "", "", 0},
		{"the implicit flow", false, with("response_type", "token"), "", "", 0},
		{"a hybrid flow", false, with("response_type", "code id_token"), "", "", 0},
		{"response type none", false, with("response_type", "none"), "", "", 0},
		{"no response type", false, with("response_type", ""), "", "", 0},
		{"form_post response mode", false, with("response_mode", "form_post"), "", "", 0},
		{"fragment response mode", false, with("response_mode", "fragment"), "", "", 0},
		{"an unknown response mode", false, with("response_mode", "jwt"), "", "", 0},
		{"every prompt at once", false, with("prompt", "none login consent select_account"), "", "", 0},
		{"a negative max_age", false, with("max_age", "-1"), "", "", 0},
		{"a max_age past int64", false, with("max_age", "99999999999999999999999"), "", "", 0},
		{"a scope not allowed to the client", false, with("scope", "openid phone address"), "", "", 0},
		{"a scope of invalid UTF-8", false, with("scope", "openid \xff\xfe"), "", "", 0},
		{"a state of invalid UTF-8", false, with("state", "\xc3\x28state-123456"), "", "", 0},
		{"a state with a NUL", false, with("state", "state\x00123456"), "", "", 0},
		{"a huge state", false, with("state", strings.Repeat("s", 1<<16)), "", "", 0},
		{"a short state", false, with("state", "s"), "", "", 0},
		{"a short nonce", false, with("nonce", "n"), "", "", 0},
		{"a request object", false, q + "&request=a.b.c", "", "", 0},
		{"another loopback port and a bad scope", false, authorizeQuery(fuzzSecretClient, "http://127.0.0.1:4444/cb", "openid phone", verifier).Encode(), "", "", 0},
		{"another loopback port and a short state", false, strings.Replace(with("redirect_uri", "http://127.0.0.1:4444/cb"), "state=state-123456", "state=s", 1), "", "", 0},
		{"a percent-encoded path and a refused request object", false, url.Values{"client_id": {fuzzSecretClient}, "request": {fuzzUnsigned(map[string]any{
			"iss": fuzzSecretClient, "aud": fuzzIssuer, "redirect_uri": "http://127.0.0.1/%63b", "state": "state-123456", "response_type": "code"})}}.Encode(), "", "", 0},
		{"an alg none request object naming its redirect URI", false, url.Values{"client_id": {fuzzKeyClient}, "request": {fuzzUnsigned(map[string]any{
			"iss": fuzzKeyClient, "aud": fuzzIssuer, "redirect_uri": fuzzSecretRedirect, "state": "state-123456", "response_type": "code"})}}.Encode(), "", "", 0},
		{"a request object whose claims are not parameters", false, url.Values{"client_id": {fuzzSecretClient}, "request": {fuzzUnsigned(map[string]any{
			"iss": fuzzSecretClient, "redirect_uri": []any{fuzzSecretRedirect}, "state": map[string]any{"x": nil}, "max_age": 1e300})}}.Encode(), "", "", 0},
		{"a request object and a request_uri", false, q + "&request=a.b.c&request_uri=" + url.QueryEscape(requestURI), "", "", 0},
		{"an unknown request_uri", false, url.Values{"client_id": {fuzzSecretClient}, "request_uri": {"urn:ietf:params:oauth:request_uri:nope"}}.Encode(), "", "", 0},
		{"a request_uri of another client", false, url.Values{"client_id": {fuzzPublicClient}, "request_uri": {requestURI}}.Encode(), "", "", 0},
		{"a claims parameter that is not JSON", false, q + "&claims=%7Bbad", "", "", 0},
		{"acr_values=eidas1", false, with("acr_values", "eidas1"), "", "", 0},
		{"a garbage id_token_hint", false, with("prompt", "none") + "&id_token_hint=a.b.c", "", "", 0},
		{"a login hint of invalid UTF-8", false, with("login_hint", "\xff"), "", "", 0},
		{"semicolons between parameters", false, strings.ReplaceAll(q, "&", ";"), "", "", 0},
		{"a malformed percent escape", false, q + "&x=%zz", "", "", 0},
		{"a post with a JSON body", true, "", `{"client_id":"caf"}`, "application/json", 0},
		{"a post with a query and a different body", true, q, with("client_id", "nope"), formType, 0},
		{"a multipart post without a boundary", true, "", q, "multipart/form-data", 0},
	}
}

// checkAuthorizeAnswer: never a 5xx, and a redirect only ever goes to a
// registered redirect URI with a code or an error (RFC 6749 §4.1.2.1).
func (ft *fuzzTarget) checkAuthorizeAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("/authorize answered %d: %.500s", rec.Code, rec.Body)
	}
	if rec.Code < 300 || rec.Code >= 400 {
		return
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatalf("/authorize redirects to %q, which does not parse: %v", rec.Header().Get("Location"), err)
	}
	target := *loc
	target.RawQuery, target.Fragment, target.RawFragment = "", "", ""
	if target.String() == "http://"+target.Host+fuzzPublicRedirect[len("http://127.0.0.1"):] && target.Hostname() == "127.0.0.1" {
		// RFC 8252 §7.3: a native app, the public client, may be
		// given any port of its loopback redirect URI.
		target.Host = target.Hostname()
	}
	if !ft.redirects[target.String()] {
		t.Fatalf("/authorize redirects to %q, which is not a registered redirect URI", loc)
	}
	params := loc.Query()
	if frag, err := url.ParseQuery(loc.Fragment); err == nil {
		for k, v := range frag {
			params[k] = append(params[k], v...)
		}
	}
	if params.Get("code") == "" && params.Get("error") == "" {
		t.Errorf("/authorize redirects to %q with neither a code nor an error", loc)
	}
}

// FuzzAuthorizeEndpoint sends arbitrary query strings and form bodies to
// the authorization endpoint.
func FuzzAuthorizeEndpoint(f *testing.F) {
	ft := newFuzzTarget(f)
	for _, in := range ft.authorizeSeeds(f) {
		f.Add(in.post, in.query, in.body, in.ctype)
	}
	f.Fuzz(func(t *testing.T, post bool, query, body, ctype string) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		r := newRequest(method, "/authorize", query, body, "", ctype)
		if r == nil {
			return
		}
		ft.checkAuthorizeAnswer(t, ft.serve(r))
	})
}

// TestEveryUnauthorizedAnswerChallenges: a 401 names the scheme to use
// (RFC 9110 §15.5.2; RFC 6749 §5.2 for invalid_client), on every endpoint
// that authenticates clients. It is not a property of the fuzz tests so
// that they can run past it.
func TestEveryUnauthorizedAnswerChallenges(t *testing.T) {
	ft := newFuzzTarget(t)
	for _, in := range ft.tokenSeeds(t) {
		path := fuzzTokenPaths[in.endpoint]
		t.Run(strings.TrimPrefix(path, "/")+": "+in.name, func(t *testing.T) {
			rec := ft.serve(newRequest(http.MethodPost, path, in.query, in.body, in.auth, in.ctype))
			if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate: %s", rec.Body)
			}
		})
	}
}

// TestFuzzSeedsReachTheGrants: the valid seeds of both fuzz tests succeed,
// so the fuzzer starts from requests that get past client authentication
// and into the grants; a seed that stops failing there, or a grant that
// stops working, shows here.
func TestFuzzSeedsReachTheGrants(t *testing.T) {
	ft := newFuzzTarget(t)
	for _, in := range ft.tokenSeeds(t) {
		if in.want == 0 {
			continue
		}
		t.Run(in.name, func(t *testing.T) {
			path := fuzzTokenPaths[in.endpoint]
			rec := ft.serve(newRequest(http.MethodPost, path, in.query, in.body, in.auth, in.ctype))
			if rec.Code != in.want {
				t.Errorf("%s: %d, want %d: %s", path, rec.Code, in.want, rec.Body)
			}
			checkProtocolAnswer(t, path, rec)
		})
	}
	for _, in := range ft.authorizeSeeds(t) {
		if in.want == 0 {
			continue
		}
		t.Run(in.name, func(t *testing.T) {
			method := http.MethodGet
			if in.post {
				method = http.MethodPost
			}
			rec := ft.serve(newRequest(method, "/authorize", in.query, in.body, "", in.ctype))
			loc, _ := url.Parse(rec.Header().Get("Location"))
			if rec.Code != in.want || loc == nil || loc.Query().Get("code") == "" {
				t.Errorf("/authorize: %d to %q, want %d with a code: %s", rec.Code, rec.Header().Get("Location"), in.want, rec.Body)
			}
			ft.checkAuthorizeAnswer(t, rec)
		})
	}
}

// fuzzUnsigned is claims as an unsecured JWT (alg none, RFC 7519 §6).
func fuzzUnsigned(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}
