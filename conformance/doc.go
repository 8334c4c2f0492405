// Package conformance holds black-box protocol tests that talk to an issuer
// over HTTP only, like a real relying party, so they can target any issuer.
// The OpenID provider arrives with the next issue; until then this package
// holds no tests.
package conformance
