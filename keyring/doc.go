// Package keyring owns Relais's keys: the keys that sign tokens and their
// rotation (keys.go), the keys that sign the journal's checkpoints and
// notes, each endorsed by the one before (journal_key.go, journal_note.go),
// and the secret box that seals private keys and other secrets at rest
// under RELAIS_SECRET_KEY (secretbox.go).
//
// It exists apart from authz and authn because both use it, as do the
// journal commands, and a store that keeps keys must not link the OAuth
// library: authz's JWT signer for fosite (authz/signer.go) is the one
// place where these keys meet fosite. It imports mandates, mandates/journal
// and go-jose v4; it must not import authz, authn, fosite, ui or a store.
// It declares the store interfaces it needs; storage/* implements them.
package keyring
