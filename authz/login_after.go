package authz

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// An authorization request with max_age=0 (or a small max_age) sends the
// person to log in, then comes back to /authorize; OIDC Core §3.1.2.1
// means the login done for this request to satisfy it, but the request's
// max_age, checked again against the clock, would send the person to log
// in forever. The page that sends the person to log in therefore adds to
// the request when it did so, sealed to the site: a login at or after that
// time was made for this request.

// loginAfterTTL bounds how long the seal is good: a login page left open
// longer starts over.
const loginAfterTTL = 30 * time.Minute

// LoginAfterParam carries, back to /authorize, when the request sent the
// person to log in.
const LoginAfterParam = "relais_login_after"

// SealLoginAfter seals the time at which request a sent the person to log
// in, bound to that request: its client, redirect URI, state, nonce and
// PKCE challenge (required, and new for every request), so that the seal
// of one flow satisfies no other.
func (p *Provider) SealLoginAfter(a *AuthorizeRequest, at time.Time) string {
	t := strconv.FormatInt(at.UnixMilli(), 10)
	return t + "." + p.loginAfterMAC(a, t)
}

// LoginSatisfies says whether a login at authTime was made for request a
// (prompt=login or max_age, OIDC Core §3.1.2.1): a carries a genuine seal
// of its own, not too old, and the login came at or after it.
func (p *Provider) LoginSatisfies(a *AuthorizeRequest, authTime time.Time) bool {
	t, mac, ok := strings.Cut(a.Form().Get(LoginAfterParam), ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(p.loginAfterMAC(a, t))) {
		return false
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return false
	}
	at := time.UnixMilli(n)
	return !authTime.Before(at) && p.cfg.Now().Before(at.Add(loginAfterTTL))
}

func (p *Provider) loginAfterMAC(a *AuthorizeRequest, t string) string {
	f := a.Form()
	m := hmac.New(sha256.New, p.choiceKey)
	for _, part := range []string{"login-after", a.Client().ID, f.Get("redirect_uri"), f.Get("state"), f.Get("nonce"), f.Get("code_challenge"), t} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
