package authz

import (
	"slices"
	"strings"
)

// Authentication context classes (OIDC Core §2 acr), with the values
// FranceConnect uses for the eIDAS levels of assurance: a login meets
// eidas1 ("low") with a password alone, eidas2 ("substantial") with a
// second factor as well.
const (
	ACREidas1 = "eidas1"
	ACREidas2 = "eidas2"
)

// ACRValues are the classes Relais's logins can meet, for discovery.
var ACRValues = []string{ACREidas1, ACREidas2}

// ACRFor is the class a login met, from its methods (RFC 8176): eidas2
// when a second factor ("otp") was given, else eidas1.
func ACRFor(amr []string) string {
	if slices.Contains(amr, "otp") {
		return ACREidas2
	}
	return ACREidas1
}

// StrongerACR is the higher of two eIDAS classes (eidas1 < eidas2 <
// eidas3): a login through an upstream provider keeps the provider's class
// when it is higher than what Relais's own methods met. Any other value
// of upstream is ignored.
func StrongerACR(own, upstream string) string {
	rank := map[string]int{ACREidas1: 1, ACREidas2: 2, "eidas3": 3}
	if rank[upstream] > rank[own] {
		return upstream
	}
	return own
}

// RequestsACR says whether the site listed class v in acr_values (OIDC
// Core §3.1.2.1: space-separated, in order of preference). Relais treats
// eidas2 asked this way as a reason to ask for the second factor when the
// person has one (ui); without one, the ID token says eidas1, what the
// login met, and the site decides.
func (a *AuthorizeRequest) RequestsACR(v string) bool {
	return slices.Contains(strings.Fields(a.ar.GetRequestForm().Get("acr_values")), v)
}
