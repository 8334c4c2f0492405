package conformance

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// absoluteURL checks an endpoint URL: absolute, https except on loopback
// (OpenID Connect Discovery §3).
func absoluteURL(t *testing.T, name string, v any) {
	t.Helper()
	s, _ := v.(string)
	u, err := url.Parse(s)
	if s == "" || err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		t.Errorf("%s = %q, want an absolute URL", name, s)
		return
	}
	if u.Scheme != "https" && !isLoopback(u.Hostname()) {
		t.Errorf("%s = %q uses %s; only https is allowed off loopback", name, s, u.Scheme)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func testDiscovery(t *testing.T, tg *target) {
	res, body := tg.get(t, tg.issuer+"/.well-known/openid-configuration", "")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("discovery: %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc := map[string]any{}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("discovery is not a JSON object: %v", err)
	}
	// Discovery §4.3: the issuer in the document is exactly the one asked.
	if doc["issuer"] != tg.issuer {
		t.Errorf("issuer %v, want %s", doc["issuer"], tg.issuer)
	}
	endpoints := []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"}
	if tg.relaisRules {
		endpoints = append(endpoints, "introspection_endpoint", "revocation_endpoint", "pushed_authorization_request_endpoint")
	}
	for _, name := range endpoints {
		absoluteURL(t, name, doc[name])
	}

	lists := []struct {
		name string
		want []string
	}{
		{"scopes_supported", []string{"openid"}},
		{"response_types_supported", []string{"code"}},
		{"subject_types_supported", nil},
		// Discovery §3: RS256 MUST be included.
		{"id_token_signing_alg_values_supported", []string{"RS256"}},
		{"claims_supported", []string{"sub"}},
		{"grant_types_supported", []string{"authorization_code"}},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_basic"}},
	}
	if tg.relaisRules {
		lists = append(lists, []struct {
			name string
			want []string
		}{
			{"scopes_supported", []string{"offline_access", "profile", "email", "phone", "address", "identite_pivot",
				"given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "preferred_username"}},
			{"subject_types_supported", []string{"pairwise", "public"}},
			{"id_token_signing_alg_values_supported", []string{"ES256"}},
			{"claims_supported", []string{"iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr",
				"given_name", "given_name_array", "family_name", "preferred_username", "birthdate", "gender",
				"birthplace", "birthcountry", "email", "phone_number", "address"}},
			{"grant_types_supported", []string{"refresh_token", "client_credentials"}},
			{"token_endpoint_auth_methods_supported", []string{"client_secret_post", "private_key_jwt", "none"}},
			{"acr_values_supported", []string{"eidas1"}},
			{"response_modes_supported", []string{"query"}},
			{"prompt_values_supported", []string{"none", "login", "consent"}},
		}...)
	}
	for _, l := range lists {
		have, ok := doc[l.name].([]any)
		if !ok || len(have) == 0 {
			t.Errorf("%s = %v, want a non-empty list", l.name, doc[l.name])
			continue
		}
		if missing := hasAll(stringList(doc[l.name]), l.want...); len(missing) > 0 {
			t.Errorf("%s = %v lacks %v", l.name, doc[l.name], missing)
		}
	}
	// RFC 9700 §2.1.1: S256 only; "plain" must not be offered.
	if got := stringList(doc["code_challenge_methods_supported"]); !slices.Equal(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v, want exactly [S256]", doc["code_challenge_methods_supported"])
	}
	if slices.Contains(stringList(doc["id_token_signing_alg_values_supported"]), "none") {
		t.Error("id_token_signing_alg_values_supported offers none")
	}
	for _, st := range stringList(doc["subject_types_supported"]) {
		if st != "public" && st != "pairwise" {
			t.Errorf("subject_types_supported has %q, which OIDC Core §8 does not define", st)
		}
	}
	if tg.relaisRules {
		// RFC 9700 §2.1.2: no implicit or hybrid flow.
		if got := stringList(doc["response_types_supported"]); !slices.Equal(got, []string{"code"}) {
			t.Errorf("response_types_supported = %v, want exactly [code]", got)
		}
		if doc["authorization_response_iss_parameter_supported"] != true {
			t.Errorf("authorization_response_iss_parameter_supported = %v, want true (RFC 9207)", doc["authorization_response_iss_parameter_supported"])
		}
	}
	// A real relying party accepts it.
	tg.provider(t)
}

func testDiscoveryEndSession(t *testing.T, tg *target) {
	if !tg.relaisRules {
		t.Skip("RP-initiated logout is optional in OpenID Connect; Relais offers it (issue 4, point 2)")
	}
	absoluteURL(t, "end_session_endpoint", tg.metadata(t)["end_session_endpoint"])
}

func testJWKS(t *testing.T, tg *target) {
	res, body := tg.get(t, tg.endpoint(t, "jwks_uri"), "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/jwk-set+json") {
		t.Errorf("JWKS Content-Type %q", ct)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS %.200s: %v, want a key set with keys", body, err)
	}
	kids := map[string]bool{}
	algs := map[string]bool{}
	for i, k := range set.Keys {
		kid, _ := k["kid"].(string)
		alg, _ := k["alg"].(string)
		if kid == "" || alg == "" || k["use"] != "sig" {
			t.Errorf("key %d: kid %q, alg %q, use %v; want all three, use=sig", i, kid, alg, k["use"])
		}
		if kids[kid] {
			t.Errorf("key %d: kid %q appears twice: a verifier could not pick the key", i, kid)
		}
		kids[kid], algs[alg] = true, true
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %d (%s) publishes the private member %q", i, kid, private)
			}
		}
		switch {
		case strings.HasPrefix(alg, "ES") && k["kty"] != "EC", strings.HasPrefix(alg, "RS") && k["kty"] != "RSA",
			strings.HasPrefix(alg, "PS") && k["kty"] != "RSA":
			t.Errorf("key %d (%s): kty %v does not fit alg %s", i, kid, k["kty"], alg)
		}
	}
	for _, alg := range stringList(tg.metadata(t)["id_token_signing_alg_values_supported"]) {
		if alg != "none" && !strings.HasPrefix(alg, "HS") && !algs[alg] {
			t.Errorf("discovery offers %s ID tokens but the JWKS has no %s key", alg, alg)
		}
	}
}
