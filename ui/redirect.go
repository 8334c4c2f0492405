package ui

import (
	"net/url"
	"strings"
)

// localPath is the one check of every redirect target a request names
// (the language switch's next, the login's and the second factor's
// return): a path on this site, or "/" for anything else.
//
// RFC 9700 §4.11 (open redirection): the target is parsed as a URL and
// kept only when it names no scheme, no host and no user, and starts
// with exactly one "/". Browsers parse more loosely than net/url (WHATWG
// URL): they drop tabs and line breaks ("/\t/x" becomes "//x", another
// site) and read a backslash as a slash ("/\x" becomes "//x"), so every
// control character and every backslash is refused before parsing.
func localPath(next string) string {
	if next == "" || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}
