package conformance

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// conformanceCase is one check of the suite; needs lists the kinds of
// client it uses beyond the main one.
type conformanceCase struct {
	name  string
	needs []role
	run   func(t *testing.T, tg *target)
}

// cases is the suite. Each name says what a conforming issuer does.
func cases() []conformanceCase {
	return []conformanceCase{
		// Discovery and keys.
		{"discovery publishes every field a certified OP publishes", nil, testDiscovery},
		{"discovery publishes end_session_endpoint for RP-initiated logout", nil, testDiscoveryEndSession},
		{"JWKS keys have kid, alg and use=sig and no private parts", nil, testJWKS},

		// The authorization code flow.
		{"code flow with PKCE S256 returns a code, state and iss, and the code buys tokens", nil, testCodeFlow},
		{"state comes back unchanged, even with characters that need escaping", nil, testStateRoundTrip},
		{"ID token verifies: signature, iss, aud, exp, iat, nonce, auth_time, at_hash", nil, testIDToken},
		{"ID token says how the person logged in: acr eidas1 and amr pwd", nil, testACRAndAMR},
		{"ID token of a client registered for RS256 is signed RS256", []role{roleRS256}, testRS256},
		{"access token is an RFC 9068 JWT: typ at+jwt, kid, client_id, string scope, aud, jti", nil, testAccessTokenProfile},
		{"userinfo answers FranceConnect's scopes and claim names (identite_pivot, email)", []role{roleFC}, testUserinfoFranceConnect},
		{"userinfo refuses a missing or invalid access token with 401 and WWW-Authenticate", nil, testUserinfoWithoutToken},
		{"sub is pairwise: stable across logins, not the local id, one per sector", nil, testPairwise},
		{"public client (auth method none) completes the code flow with PKCE alone", []role{rolePublic}, testPublicClient},
		{"prompt=login asks for the password again despite a session", nil, testPromptLogin},
		{"prompt=none without a session answers login_required with state", nil, testPromptNoneLoginRequired},
		{"refused consent answers access_denied with state", nil, testConsentRefused},
		{"error answers of the authorization endpoint carry iss (RFC 9207)", nil, testErrorResponseISS},
		{"pushed authorization request: POST /par then authorize with request_uri", nil, testPAR},
		{"max_age=0 with a session asks for one login, then answers", nil, testMaxAgeZero},

		// Request objects (RFC 9101).
		{"a signed request object is accepted, and only its parameters count", []role{roleJAR}, testSignedRequestObject},
		{"request objects with alg none, unsigned, signed by another key or with wrong claims answer invalid_request_object", []role{roleJAR}, testBadRequestObjects},
		{"a client registered to require signed request objects is refused a plain or unsigned request", []role{roleJARRequired}, testRequiredRequestObject},

		// Refresh tokens and codes: one use each.
		{"refresh token rotates at each use", []role{roleFC}, testRefreshRotation},
		{"refresh token reuse is refused and revokes the whole family", []role{roleFC}, testRefreshReuse},
		{"code reuse is refused with invalid_grant and revokes the first exchange's tokens", nil, testCodeReuse},
		{"a client cannot redeem another client's code", []role{roleFC}, testCodeOfAnotherClient},
		{"token request with another redirect_uri than the authorization request's is refused", nil, testTokenRedirectMismatch},

		// Server clients, introspection, revocation.
		{"client credentials grant issues an RFC 9068 access token and nothing else", []role{roleService}, testClientCredentials},
		{"client credentials for an unregistered scope answers invalid_scope", []role{roleService}, testClientCredentialsScope},
		{"a grant the client is not registered for answers unauthorized_client", []role{roleFC}, testUnauthorizedClient},
		{"introspection says active for a live token and inactive for garbage", nil, testIntrospection},
		{"introspection requires client authentication", nil, testIntrospectionNeedsAuth},
		{"introspection answers only {\"active\": false} to a client the token was not issued to", []role{roleFC}, testIntrospectionByAnotherClient},
		{"introspection refuses a bearer access token as the caller's credential: 401 invalid_client", nil, testIntrospectionWithABearerToken},
		{"a public client cannot introspect: 401 invalid_client", []role{rolePublic}, testIntrospectionByAPublicClient},
		{"a public client asking for client_credentials answers unauthorized_client", []role{rolePublic}, testPublicClientCredentials},
		{"revocation makes an access token inactive and a refresh token unusable", []role{roleFC}, testRevocation},
		{"a client cannot revoke another client's token", []role{roleFC}, testRevokeOtherClientsToken},

		// Bad input at the authorization endpoint: never a redirect to an
		// unverified address, never a 5xx.
		{"unknown client_id gets an error page, never a redirect", nil, testUnknownClient},
		{"unregistered redirect_uri gets an error page, never a redirect", nil, redirectVariant(func(string) string { return "https://attacker.example/callback" })},
		{"redirect_uri with a trailing slash added gets an error page", nil, redirectVariant(func(u string) string { return u + "/" })},
		{"redirect_uri differing in case gets an error page", nil, redirectVariant(upperPath)},
		{"redirect_uri with an extra query parameter gets an error page", nil, redirectVariant(addQuery)},
		{"a loopback redirect_uri with a letter percent-encoded gets an error page", []role{roleFC}, clientRedirectVariant(roleFC, encodeLetter)},
		{"a web site's loopback redirect_uri on another port gets an error page (only a native app's may vary)", []role{roleFC}, clientRedirectVariant(roleFC, otherPort)},
		{"a web site's loopback redirect_uri on another port with an unknown scope gets an error page, not the invalid_scope redirect", []role{roleFC}, spoiledRedirectVariant(roleFC, otherPort, unknownScope)},
		{"a web site's loopback redirect_uri on another port with a short state gets an error page, not the invalid_state redirect", []role{roleFC}, spoiledRedirectVariant(roleFC, otherPort, shortState)},
		{"a loopback redirect_uri with a letter percent-encoded in a refused request object gets an error page, not the refusal's redirect", []role{roleFC}, spoiledRedirectVariant(roleFC, encodeLetter, unsignedRequestObject)},
		{"missing PKCE answers invalid_request", nil, testMissingPKCE},
		{"plain PKCE answers invalid_request", nil, testPlainPKCE},
		{"code_challenge without a method (plain by default) answers invalid_request", nil, testPKCEDefaultPlain},
		{"unknown response_type answers unsupported_response_type with state", nil, testUnknownResponseType},
		{"duplicated parameters at the authorization endpoint are refused", nil, testDuplicateAuthorizeParameter},
		{"tampered ID token as id_token_hint is refused", nil, testTamperedIDTokenHint},
		{"odd and oversized authorization requests get a 4xx, never a 5xx", nil, testOddAuthorizeRequests},

		// Bad input at the token endpoint.
		{"wrong verifier or none at the token endpoint answers invalid_grant", nil, testWrongVerifier},
		{"wrong client secret answers 401 invalid_client with WWW-Authenticate", nil, testWrongSecret},
		{"malformed token request body answers 400 invalid_request", nil, testMalformedBody},
		{"empty token request body answers 400 invalid_request", nil, testEmptyBody},
		{"oversized token request body (2 MiB) answers 413 or 400", nil, testOversizedBody},
		{"duplicated grant_type answers invalid_request", nil, testDuplicatedGrantType},
		{"unknown grant_type answers unsupported_grant_type", nil, testUnknownGrantType},
		{"token endpoint answers carry Cache-Control no-store, errors included", nil, testTokenNoStore},

		// DPoP (RFC 9449).
		{"DPoP: the code grant's token is bound (token_type DPoP, cnf.jkt); userinfo takes it with a proof by the key, refuses it as Bearer, with another key or a replayed proof", []role{roleDPoP}, testDPoPBoundToken},
		{"DPoP: a public client's refresh needs a proof by the same key; dpop_bound_access_tokens refuses a token request without a proof", []role{roleDPoP}, testDPoPRefreshNeedsTheKey},
		{"DPoP: use_dpop_nonce then a bound token, cnf.jkt in introspection; a replayed proof is refused", []role{roleService}, testDPoPNonceAndReplay},
	}
}

// relaisCases check what Relais does beyond the standards (its own rules
// and its AuthZEN endpoints): they are part of the suite only where the
// issuer is Relais, not for another issuer.
func relaisCases() []conformanceCase {
	return []conformanceCase{
		{"a request object from a client without keys answers request_not_supported at its redirect URI", nil, testRequestObjectWithoutKeys},
		{"DPoP: the access evaluation endpoint takes a server client's bound token with a proof by its key, not with another key", []role{roleService}, testDPoPAccessEvaluation},
		{"a client with a registered encryption key receives ID tokens and userinfo answers it decrypts with go-jose, signed by the issuer's keys (RSA-OAEP-256 and ECDH-ES)", []role{roleJWE, roleJWEEC}, testEncryptedIDToken},
	}
}

// demoCases check Relais's own rules for acting for someone on its demo
// data: they are part of the suite only where that data is (relais serve
// --demo), not for another issuer.
func demoCases() []conformanceCase {
	return []conformanceCase{
		{"a tutor's token carries the person's sub, act with the tutor's sub and names, and the representation", nil, testActingTokens},
		{"a person acting for themselves gets no act and no representation", nil, testOwnTokenHasNoAct},
		{"token exchange keeps the person, narrows the audience and nests the actors in act", []role{roleExchanger, roleAPI}, testActingTokenExchange},
		{"access evaluation answers each demo case as the default policy does; a suspended representation's tokens stop at once (introspection, refresh, userinfo)", nil, testEvaluationThenSuspension},
		{"a co-signed dispose act evaluates true once", nil, testCosignedDisposeEvaluatesTrueOnce},
		{"a password-only member gets no token under the organisation's representation (access_denied if forced); after the code, the tokens carry amr otp and mfa", nil, testOrganisationNeedsTheSecondFactor},
		{"a measure narrowed by the operator narrows the next refresh, userinfo and introspection at once: no dispose in an area taken away", nil, testNarrowedMeasure},
		{"token exchange keeps the subject token's authorization_details and refuses to widen them", []role{roleExchanger, roleAPI}, testExchangeKeepsDetails},
		{"introspection of an acting token by its site carries act, representation and authorization_details; another site learns nothing", nil, testIntrospectionSaysWhoActs},
		{"AuthZEN search: who may act for a person, for whom an actor may act, what an actor may do, each as evaluation answers, with pages", nil, testSearches},
	}
}

func runSuite(t *testing.T, tg *target) {
	all := cases()
	if tg.relaisRules {
		all = append(all, relaisCases()...)
	} else {
		t.Logf("%d cases of Relais's own rules are left out: the issuer is not Relais", len(relaisCases()))
	}
	if tg.demo != "" {
		all = append(all, demoCases()...)
	} else {
		t.Logf("%d cases of acting for someone are left out: they need Relais's demo data", len(demoCases()))
	}
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range c.needs {
				if tg.clients[r] == nil {
					t.Skipf("needs the %s: set %s%sCLIENT_ID and the rest (see doc.go)", r, envPrefix, string(r))
				}
			}
			c.run(t, tg)
		})
	}
}

func skipIfExternal(t *testing.T) {
	if os.Getenv(envIssuer) != "" {
		t.Skipf("%s is set: TestIssuer checks that issuer instead", envIssuer)
	}
}

// TestSQLite runs the suite against relais serve --demo on SQLite.
func TestSQLite(t *testing.T) {
	skipIfExternal(t)
	t.Parallel()
	tg := startRelais(t, "sqlite:"+filepath.Join(t.TempDir(), "relais.db"))
	runSuite(t, tg)
}

// TestPostgreSQL runs the suite against relais serve --demo on a
// throwaway PostgreSQL; without one it is skipped, or fails under CI.
func TestPostgreSQL(t *testing.T) {
	skipIfExternal(t)
	t.Parallel()
	c := pgtest.StartCluster(t)
	tg := startRelais(t, c.DSN("postgres"))
	runSuite(t, tg)
}

// TestIssuer runs the suite against the issuer RELAIS_CONFORMANCE_ISSUER.
func TestIssuer(t *testing.T) {
	if os.Getenv(envIssuer) == "" {
		t.Skipf("set %s (and the variables doc.go lists) to check another issuer", envIssuer)
	}
	runSuite(t, externalTarget(t))
}
