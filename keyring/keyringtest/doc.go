// Package keyringtest holds what tests of keyring's users need and
// production must never have: signing keys kept in memory.
//
// It exists because keyring's own tests and authz's signer tests both run
// on keys held in memory, with the stores' rules, and one copy of those
// rules is easier to keep true than two. No code outside a test may
// import it. It imports keyring, mandates and the standard library only.
package keyringtest
