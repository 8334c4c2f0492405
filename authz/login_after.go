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

// SealLoginAfter seals the time at which the request of client clientID
// sent the person to log in.
func (p *Provider) SealLoginAfter(clientID string, at time.Time) string {
	t := strconv.FormatInt(at.Unix(), 10)
	return t + "." + p.loginAfterMAC(clientID, t)
}

// LoginSatisfies says whether a login at authTime was made for the request
// of clientID that carries sealed: the seal is genuine, for this site, not
// too old, and the login came at or after it.
func (p *Provider) LoginSatisfies(sealed, clientID string, authTime time.Time) bool {
	t, mac, ok := strings.Cut(sealed, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(p.loginAfterMAC(clientID, t))) {
		return false
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return false
	}
	at := time.Unix(n, 0)
	return !authTime.Before(at) && p.cfg.Now().Before(at.Add(loginAfterTTL))
}

func (p *Provider) loginAfterMAC(clientID, t string) string {
	m := hmac.New(sha256.New, p.choiceKey)
	for _, part := range []string{"login-after", clientID, t} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
