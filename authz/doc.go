// Package authz owns the OAuth 2.0 / OpenID Connect provider of Relais,
// built on fosite: provider.go wires fosite's handlers, fosite_storage.go
// is the one place that adapts fosite's storage to Relais's stores,
// signer.go is fosite's JWT signer on go-jose v4, and the rest are the
// endpoints Relais composes around fosite (discovery, JWKS, userinfo,
// logout, token exchange, DPoP, request objects, AuthZEN access
// evaluation and search), with encryption.go encrypting ID tokens and
// userinfo answers to the clients that registered it, and acr.go the
// eIDAS levels a login meets.
//
// Everything that needs fosite lives here, and nothing else does: the
// records the provider keeps are in authz/oauth, how a person logs in is
// in authn, and keys are in keyring, so that the stores never link fosite.
// It may import mandates, authz/oauth, keyring and locales; it never imports authn,
// ui or a store.
package authz
