package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// Clients that sign: request objects (RFC 9101) and client assertions
// (private_key_jwt, RFC 7523), with a key the suite makes.
const (
	roleJAR         role = "JAR_"          // private_key_jwt, may send signed request objects
	roleJARRequired role = "JAR_REQUIRED_" // the same, registered with require_signed_request_object
)

// signer is a signing client's private key and the kid it registered.
type signer struct {
	key *ecdsa.PrivateKey
	kid string
}

// registerSigners registers the signing clients with `relais clients
// create --auth-method private_key_jwt --jwks-file`, before serving.
func (tg *target) registerSigners(t *testing.T, env []string, db string) {
	t.Helper()
	tg.signers = map[role]*signer{}
	for _, r := range []struct {
		role  role
		id    string
		port  string
		extra []string
	}{
		{roleJAR, "conformance-jar", "8087", nil},
		{roleJARRequired, "conformance-jar-required", "8088", []string{"--require-signed-request-object"}},
	} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s := &signer{key: key, kid: r.id + "-1"}
		set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: s.kid, Algorithm: "ES256", Use: "sig"}}})
		file := filepath.Join(t.TempDir(), r.id+".jwks.json")
		if err := os.WriteFile(file, set, 0o600); err != nil {
			t.Fatal(err)
		}
		c := &rp{ID: r.id, RedirectURI: "http://127.0.0.1:" + r.port + "/callback", Scopes: []string{"openid", "email"}}
		relaisRun(t, env, append([]string{"clients", "create", "--db", db, "--id", c.ID, "--redirect-uri", c.RedirectURI,
			"--name", "Site signing its requests (conformance)", "--scope", "openid email", "--grant-type", "authorization_code",
			"--auth-method", "private_key_jwt", "--jwks-file", file, "--sector-identifier", "jar.conformance.example"}, r.extra...)...)
		tg.clients[r.role], tg.signers[r.role] = c, s
	}
}

// sign signs claims as a JWS with key, under s's kid.
func (s *signer) sign(t testing.TB, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithHeader("kid", s.kid).WithType("oauth-authz-req+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := sig.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// requestClaims are a request object's claims for c (RFC 9101 §4): its
// whole authorization request, PKCE included, for the issuer.
func (tg *target) requestClaims(c *rp, verifier, state string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": c.ID, "aud": tg.issuer, "client_id": c.ID, "response_type": "code", "redirect_uri": c.RedirectURI,
		"scope": "openid email", "state": state, "nonce": random(),
		"code_challenge": oauth2.S256ChallengeFromVerifier(verifier), "code_challenge_method": "S256",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": random()}
}

// assertion is an RFC 7523 client assertion of c for the token endpoint.
func (tg *target) assertion(t testing.TB, c *rp, s *signer) url.Values {
	now := time.Now()
	a := s.sign(t, s.key, map[string]any{"iss": c.ID, "sub": c.ID, "aud": tg.endpoint(t, "token_endpoint"), "jti": random(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	return url.Values{"client_id": {c.ID}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
}

// unsignedJWT is claims under an alg none header with no signature.
func unsignedJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	b, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

func testSignedRequestObject(t *testing.T, tg *target) {
	c, s := tg.clients[roleJAR], tg.signers[roleJAR]
	if meta := tg.metadata(t); meta["request_parameter_supported"] != true || len(stringList(meta["request_object_signing_alg_values_supported"])) == 0 {
		t.Errorf("discovery: request_parameter_supported %v, request_object_signing_alg_values_supported %v; want true and the algorithms",
			meta["request_parameter_supported"], meta["request_object_signing_alg_values_supported"])
	}
	verifier, state := oauth2.GenerateVerifier(), random()
	// Parameters beside the object do not count (RFC 9101 §6.3): a scope
	// and a state in the query are ignored.
	q := url.Values{"client_id": {c.ID}, "request": {s.sign(t, s.key, tg.requestClaims(c, verifier, state))},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"not-the-object's"}}
	v, err := tg.browser(t).Authorize(t.Context(), tg.endpoint(t, "authorization_endpoint")+"?"+q.Encode(), c.RedirectURI, tg.account, Accept)
	if err != nil {
		t.Fatalf("a signed request object: %v", err)
	}
	cb := v.Callback.Query()
	if cb.Get("code") == "" || cb.Get("state") != state || cb.Get("iss") != tg.issuer {
		t.Fatalf("a signed request object: %v, want a code with the object's state and iss", cb)
	}
	form := tg.assertion(t, c, s)
	form.Set("grant_type", "authorization_code")
	form.Set("code", cb.Get("code"))
	form.Set("redirect_uri", c.RedirectURI)
	form.Set("code_verifier", verifier)
	res, m := tg.post(t, tg.endpoint(t, "token_endpoint"), nil, form)
	if res.StatusCode != http.StatusOK || m["id_token"] == nil || m["scope"] != "openid email" {
		t.Errorf("the code of a signed request object: %d %v, want tokens for the object's scope (openid email)", res.StatusCode, m)
	}
}

func testBadRequestObjects(t *testing.T, tg *target) {
	c, s := tg.clients[roleJAR], tg.signers[roleJAR]
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	claims := func(change func(map[string]any)) map[string]any {
		m := tg.requestClaims(c, oauth2.GenerateVerifier(), "state-bad-object")
		if change != nil {
			change(m)
		}
		return m
	}
	for name, obj := range map[string]string{
		"alg none":                    unsignedJWT(claims(nil)),
		"unsigned JSON":               base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"` + c.ID + `"}`)),
		"signed with another key":     s.sign(t, other, claims(nil)),
		"for another audience":        s.sign(t, s.key, claims(func(m map[string]any) { m["aud"] = "https://other.example" })),
		"issued by another client":    s.sign(t, s.key, claims(func(m map[string]any) { m["iss"] = tg.clients[roleWeb].ID })),
		"expired":                     s.sign(t, s.key, claims(func(m map[string]any) { m["exp"] = time.Now().Add(-time.Minute).Unix() })),
		"naming another client_id":    s.sign(t, s.key, claims(func(m map[string]any) { m["client_id"] = tg.clients[roleWeb].ID })),
		"with a plain PKCE challenge": s.sign(t, s.key, claims(func(m map[string]any) { m["code_challenge_method"] = "plain" })),
	} {
		want := "invalid_request_object"
		if name == "with a plain PKCE challenge" {
			want = "invalid_request"
		}
		q := url.Values{"client_id": {c.ID}, "request": {obj}, "redirect_uri": {c.RedirectURI}, "response_type": {"code"}, "state": {"state-bad-object"}}
		res, body := tg.authorizeOnce(t, q)
		cb, ok := redirectedTo(res, c)
		if !ok || cb.Get("error") != want || cb.Get("code") != "" || cb.Get("state") != "state-bad-object" || cb.Get("iss") != tg.issuer {
			t.Errorf("a request object %s: %d %s %.200s, want a redirect with %s, the state and iss, before any login",
				name, res.StatusCode, res.Header.Get("Location"), body, want)
		}
	}
}

func testRequiredRequestObject(t *testing.T, tg *target) {
	c, s := tg.clients[roleJARRequired], tg.signers[roleJARRequired]
	q := baseQuery(c)
	q.Set("state", "state-plain")
	res, _ := tg.authorizeOnce(t, q)
	if cb, ok := redirectedTo(res, c); !ok || cb.Get("error") != "invalid_request" || cb.Get("state") != "state-plain" {
		t.Errorf("a plain request from a client requiring request objects: %d %s, want invalid_request", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = tg.authorizeOnce(t, url.Values{"client_id": {c.ID}, "request": {unsignedJWT(tg.requestClaims(c, oauth2.GenerateVerifier(), "s"))}})
	if cb, ok := redirectedTo(res, c); !ok || cb.Get("error") != "invalid_request_object" {
		t.Errorf("alg none from a client requiring request objects: %d %s, want invalid_request_object", res.StatusCode, res.Header.Get("Location"))
	}
	state := random()
	signed := url.Values{"client_id": {c.ID}, "request": {s.sign(t, s.key, tg.requestClaims(c, oauth2.GenerateVerifier(), state))}}
	// Through login and consent: the pages carry the verified request.
	v, err := tg.browser(t).Authorize(t.Context(), tg.endpoint(t, "authorization_endpoint")+"?"+signed.Encode(), c.RedirectURI, tg.account, Accept)
	if err != nil {
		t.Fatalf("a signed request object from a client requiring them: %v", err)
	}
	if cb := v.Callback.Query(); cb.Get("code") == "" || cb.Get("state") != state {
		t.Errorf("a signed request object from a client requiring them: %v, want a code", cb)
	}
}

// testRequestObjectWithoutKeys is Relais's rule: a client without keys
// cannot sign request objects.
func testRequestObjectWithoutKeys(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	q := baseQuery(web)
	q.Set("state", "state-no-keys")
	q.Set("request", unsignedJWT(map[string]any{"iss": web.ID, "aud": tg.issuer}))
	res, body := tg.authorizeOnce(t, q)
	cb, ok := redirectedTo(res, web)
	if !ok || cb.Get("error") != "request_not_supported" || cb.Get("state") != "state-no-keys" || cb.Get("iss") != tg.issuer {
		t.Errorf("a request object from a client without keys: %d %s %.200s, want request_not_supported with state and iss",
			res.StatusCode, res.Header.Get("Location"), body)
	}
}

func testIntrospectionByAnotherClient(t *testing.T, tg *target) {
	web, fc := tg.clients[roleWeb], tg.clients[roleFC]
	at := tg.someAccessToken(t) // the main client's
	_, offline := tg.offline(t) // the FC client's, with a refresh token
	for _, c := range []struct {
		what   string
		caller *rp
		token  string
	}{
		{"the main client's access token, asked by another client", fc, at},
		{"another client's access token, asked by the main client", web, offline.AccessToken},
		{"another client's refresh token, asked by the main client", web, offline.RefreshToken},
	} {
		if m := tg.introspectAs(t, c.caller, c.token); m["active"] != false || len(m) != 1 {
			t.Errorf("%s: %v, want only {\"active\": false} (RFC 7662 §4)", c.what, m)
		}
	}
	if m := tg.introspectAs(t, fc, offline.RefreshToken); m["active"] != true || m["client_id"] != fc.ID {
		t.Errorf("the FC client's own refresh token: %v, want active", m)
	}
	if m := tg.introspectAs(t, web, at); m["active"] != true {
		t.Errorf("the main client's own token: %v, want active", m)
	}
}

func testIntrospectionWithABearerToken(t *testing.T, tg *target) {
	at, other := tg.someAccessToken(t), tg.someAccessToken(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, tg.endpoint(t, "introspection_endpoint"),
		strings.NewReader(url.Values{"token": {other}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+at)
	res, body := tg.do(t, req)
	m := map[string]any{}
	_ = json.Unmarshal(body, &m)
	wantError(t, "introspection with a bearer access token as the credential", res, m, http.StatusUnauthorized, "invalid_client")
	if _, ok := m["active"]; ok {
		t.Errorf("a caller with a bearer token learns whether the token is active: %v", m)
	}
}

func testIntrospectionByAPublicClient(t *testing.T, tg *target) {
	res, m := tg.post(t, tg.endpoint(t, "introspection_endpoint"), tg.clients[rolePublic], url.Values{"token": {tg.someAccessToken(t)}})
	wantError(t, "introspection by a public client", res, m, http.StatusUnauthorized, "invalid_client")
}

func testPublicClientCredentials(t *testing.T, tg *target) {
	res, m := tg.post(t, tg.endpoint(t, "token_endpoint"), tg.clients[rolePublic], url.Values{"grant_type": {"client_credentials"}})
	wantError(t, "client_credentials for a public client", res, m, http.StatusBadRequest, "unauthorized_client")
}

func testMaxAgeZero(t *testing.T, tg *target) {
	b := tg.browser(t)
	f := tg.authorize(t, b, tg.clients[roleWeb])
	tg.exchange(t, f)
	// Signed in: max_age=0 asks for the password once more, then answers.
	again := tg.authorize(t, b, tg.clients[roleWeb], oauth2.SetAuthURLParam("max_age", "0"))
	if !again.visit.LoginShown {
		t.Error("max_age=0 with a session: no login asked")
	}
	tok := tg.exchange(t, again)
	var claims struct {
		AuthTime int64 `json:"auth_time"`
	}
	if err := tg.verifyID(t, tg.clients[roleWeb], tok, again.nonce).Claims(&claims); err != nil || claims.AuthTime == 0 {
		t.Errorf("ID token after max_age=0: auth_time %d (%v), want it (OIDC Core §3.1.2.1)", claims.AuthTime, err)
	}
}

func testIntrospectionSaysWhoActs(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	details := `[{"type":"public_service_act","actions":["consult","manage"],"procedure_areas":["social"]}]`
	_, tok := tg.loginAs(t, web, tg.demoPerson(t, "marie.martin@demo.example", "Jeanne"), oauth2.SetAuthURLParam("authorization_details", details))
	_, at := decodeJWT(t, tok.AccessToken)
	m := tg.introspectAs(t, web, tok.AccessToken)
	if m["active"] != true {
		t.Fatalf("introspection of an acting token by its site: %v", m)
	}
	act, _ := m["act"].(map[string]any)
	atAct, _ := at["act"].(map[string]any)
	if act == nil || act["sub"] != atAct["sub"] || act["given_name"] == nil {
		t.Errorf("introspection: act %v, want the JWT's (%v)", m["act"], at["act"])
	}
	rep, _ := m["representation"].(map[string]any)
	if rep == nil || rep["kind"] != "tutelle" || rep["id"] == nil {
		t.Errorf("introspection: representation %v, want the tutelle", m["representation"])
	}
	if got := detailAreas(m["authorization_details"], "manage"); !sameSet(got, []string{"social"}) {
		t.Errorf("introspection: authorization_details %v, want manage in social", m["authorization_details"])
	}
	if fc := tg.clients[roleFC]; fc != nil {
		if other := tg.introspectAs(t, fc, tok.AccessToken); len(other) != 1 || other["active"] != false {
			t.Errorf("introspection of the acting token by another site: %v, want only active false", other)
		}
	}
}
