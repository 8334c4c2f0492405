// Package authn owns how a person proves who they are to Relais: password
// hashes and the pool that bounds their cost (password.go, hashpool.go),
// the limits on failed logins (login.go), the second factor and the logins
// waiting for it (totp.go), browser sessions (session.go), the forms a
// person sent after their session ended, sealed until they sign in again
// (keptform.go), and the consents a person gives a site (login.go), with
// their journal entries (journal_events.go).
//
// It exists apart from authz because none of this is OAuth: a person logs
// in, turns on a second factor or signs out whatever site sent them, and
// the stores that keep these records must not link the OAuth library. It
// imports mandates, keyring (TOTP secrets and kept forms are sealed),
// golang.org/x/crypto/argon2 and pquerna/otp; it must not import authz,
// fosite, ui or a store. It declares the store interfaces it needs;
// storage/* implements them.
package authn
