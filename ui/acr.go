package ui

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
)

// askSecondFactorForACR: a site that lists eidas2 in acr_values (OIDC
// Core §3.1.2.1) from a session with a password alone gets the code page
// first, when the person has a second factor, then the same request; the
// ID token then says eidas2 (authz.ACRFor). A person without one, or a
// request with prompt=none (no page may be shown), goes on as before:
// the ID token says eidas1, what the login met, and the site decides
// whether that will do. It reports whether it answered.
func (s *signInPages) askSecondFactorForACR(w http.ResponseWriter, r *http.Request, a *authz.AuthorizeRequest, sess authn.BrowserSession) (bool, error) {
	if !a.RequestsACR(authz.ACREidas2) || slices.Contains(sess.AMR, "otp") || authz.StrongerACR(authz.ACREidas1, sess.ACR) != authz.ACREidas1 || a.HasPrompt("none") {
		return false, nil
	}
	on, err := s.secondFactorOn(r.Context(), sess.PersonID)
	if err != nil || !on {
		return false, err
	}
	back := "/authorize?" + authorizeQuery(a.Form(), "")
	http.Redirect(w, r, codePath+"?"+url.Values{"return": {back}}.Encode(), http.StatusSeeOther)
	return true, nil
}
