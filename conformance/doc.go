// Package conformance is a black-box suite for an OpenID provider, modelled
// on the OpenID Foundation's basic OP certification plan, the OAuth 2.0
// Security BCP (RFC 9700) and Relais's own rules (DESIGN.md §8). It talks
// only HTTP, through real relying-party libraries (coreos/go-oidc,
// golang.org/x/oauth2), and drives the login and consent pages as a browser
// would. It must not import Relais's packages: only the relais binary and
// its HTTP interface, so that the same suite can check another provider.
//
// # Running it
//
//	go test ./conformance -v
//
// builds cmd/relais once, then TestSQLite and TestPostgreSQL each start
// `relais serve --demo` on their store, register the extra clients the
// demo lacks with `relais clients create`, and run the same table of cases.
// PostgreSQL comes from storage/postgres/pgtest: without its binaries the
// PostgreSQL run is skipped, or fails when CI is set.
//
// To check another issuer (Relais deployed elsewhere, or a certified
// provider, which is how the suite itself is checked), set:
//
//	RELAIS_CONFORMANCE_ISSUER         issuer URL
//	RELAIS_CONFORMANCE_CLIENT_ID      a confidential client (client_secret_basic)
//	RELAIS_CONFORMANCE_CLIENT_SECRET  with the authorization_code grant
//	RELAIS_CONFORMANCE_REDIRECT_URI   one of its registered redirect URIs
//	RELAIS_CONFORMANCE_SCOPES         scopes it asks for (default "openid email")
//	RELAIS_CONFORMANCE_EMAIL          a test account's login
//	RELAIS_CONFORMANCE_PASSWORD       and password
//
// Then TestIssuer runs the cases against it. Cases that need another kind
// of client are skipped unless it is given under a role prefix, with the
// same variables (CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SCOPES, and
// AUTH_METHOD: client_secret_basic by default, client_secret_post, none):
//
//	RELAIS_CONFORMANCE_FC_…           FranceConnect scopes (identite_pivot,
//	                                  email, offline_access), refresh tokens,
//	                                  another pairwise sector than the first,
//	                                  and no client_credentials grant
//	RELAIS_CONFORMANCE_SAME_SECTOR_…  a second client of the first's sector
//	RELAIS_CONFORMANCE_PUBLIC_…       token_endpoint_auth_method none, public subjects
//	RELAIS_CONFORMANCE_SERVICE_…      the client_credentials grant
//	RELAIS_CONFORMANCE_RS256_…        RS256 ID tokens
//
// The login form is driven as Relais's is (fields email, password and a
// hidden return; a consent form posting request and decision); Browser
// says what it expects.
//
// The load generator beside it, conformance/load, reuses Browser.
package conformance
