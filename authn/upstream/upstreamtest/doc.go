// Package upstreamtest is what only tests may use: an OpenID provider that
// plays FranceConnect or ProConnect in process, whose answers the test
// controls (a token signed by another key, another nonce, another issuer,
// a userinfo about someone else), for the tests of authn/upstream and of
// the pages of ui.
//
// It imports go-jose only. No non-test file imports it.
package upstreamtest
