// Package upstream makes Relais an OpenID Connect client of the upstream
// providers people log in through: FranceConnect for persons, ProConnect for
// professionals (issue 16, point 1).
//
// It owns the way there and back: the provider's discovery (lazy, with
// timeouts, so a provider that is down never stops Relais from starting),
// the authorization request (state, nonce, PKCE, acr_values), and every
// check of the return: RFC 9207's iss, the state (kept in the store, used
// once, bound to the browser), the code's exchange, the ID token (issuer,
// audience, expiry and signature by go-oidc, then the nonce), the userinfo
// answer; then who the person is: an upstream account already linked, or
// the identité pivot matched to exactly one person (mandates.PivotKey), or
// an account opened where the deployment allows self sign-up. Every refusal
// is a *RefusedError with a reason, and is journaled (login.upstream_refused).
// The provider's logout (RP-Initiated Logout) is built here too.
//
// It imports mandates and authn (the records it keeps through the stores'
// interfaces), go-oidc and x/oauth2. It must not import ui, authz, fosite or
// a store: pages call it, stores implement its interfaces.
package upstream
