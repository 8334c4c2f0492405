package authn

import "github.com/relais-fr/relais/mandates"

// LoginAccountKey is the key the failed logins of the account with this
// email are counted on (Authenticate): a new password set with a reset
// code clears it, so a person locked out by their own tries can log in at
// once.
func LoginAccountKey(email string) string { return "account:" + mandates.EmailKey(email) }
