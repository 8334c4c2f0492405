package authz

import (
	"slices"
	"strings"

	"github.com/ory/fosite"
)

// checkPKCE applies RFC 7636 and RFC 9700 §2.1.1 to an authorization
// request while it is parsed, so that a request Relais will refuse is
// refused before anyone logs in: fosite's PKCE handler looks at the
// challenge only when it issues the code, after the login and consent.
func checkPKCE(ar fosite.AuthorizeRequester) error {
	form := ar.GetRequestForm()
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "":
		return fosite.ErrInvalidRequest.WithHint("A PKCE code_challenge is required (RFC 9700 §2.1.1).")
	case method != "S256":
		// RFC 7636 §4.3: a missing method means plain, which Relais does
		// not accept (RFC 9700 §2.1.1: S256).
		return fosite.ErrInvalidRequest.WithHint("The code_challenge_method must be S256.")
	case !validChallenge(challenge):
		return fosite.ErrInvalidRequest.WithHint("The code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~' (RFC 7636 §4.2).")
	}
	return nil
}

// validChallenge is RFC 7636 §4.2's ABNF: 43 to 128 unreserved characters
// (a base64url SHA-256 is 43).
func validChallenge(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// checkPrompt applies OIDC Core §3.1.2.1 to prompt while the request is
// parsed (fosite checks it only when it issues the code): known values
// only, and none alone.
func checkPrompt(ar fosite.AuthorizeRequester) error {
	prompts := strings.Fields(ar.GetRequestForm().Get("prompt"))
	for _, v := range prompts {
		if !slices.Contains([]string{"none", "login", "consent"}, v) {
			return fosite.ErrInvalidRequest.WithHintf("The prompt value '%s' is not supported; use none, login or consent.", v)
		}
	}
	if slices.Contains(prompts, "none") && len(prompts) > 1 {
		return fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
	}
	return nil
}
