package authz

import (
	"net"
	"net/url"
	"strings"

	"github.com/ory/fosite"
)

// registeredRedirect says whether the redirect_uri a request names is one
// the client registered, compared as strings (RFC 9700 §2.1: exact string
// matching), with the one exception RFC 8252 §7.3 makes for native apps,
// public clients: the port of a loopback IP literal over http, which the
// app picks when it starts. fosite's own match gives that exception to
// every client, and compares a loopback URI's decoded path, so it takes
// http://127.0.0.1/%63b for a registered http://127.0.0.1/cb: a second
// spelling of an address the site never registered. An empty value is
// fosite's to settle (it takes the one URI of a client that has one).
func registeredRedirect(requested string, registered []string, native bool) bool {
	if requested == "" {
		return true
	}
	bare, loopback := withoutLoopbackPort(requested)
	for _, r := range registered {
		if r == requested {
			return true
		}
		if rb, ok := withoutLoopbackPort(r); native && loopback && ok && rb == bare {
			return true
		}
	}
	return false
}

// withoutLoopbackPort is uri without the port of its loopback IP literal,
// the rest kept byte for byte; ok is false when uri is not an http URI on
// a loopback IP literal.
func withoutLoopbackPort(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil {
		return "", false
	}
	ip := net.ParseIP(u.Hostname())
	prefix := "http://" + u.Host
	if ip == nil || !ip.IsLoopback() || !strings.HasPrefix(uri, prefix) {
		return "", false
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + uri[len(prefix):], true
}

// checkRedirectURI is registeredRedirect over a request's form, as the
// protocol's error.
func checkRedirectURI(c *fositeClient, form url.Values) error {
	if registeredRedirect(form.Get("redirect_uri"), c.c.RedirectURIs, c.IsPublic()) {
		return nil
	}
	return fosite.ErrInvalidRequest.WithHint("The 'redirect_uri' parameter is not one of the client's registered redirect URIs, character for character.")
}
