package authz

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/mandates"
)

// ErrLogoutRequest: a logout request Relais must not follow (a forged or
// foreign id_token_hint, an unregistered return address). The person sees
// Relais's own page, never a redirect.
var ErrLogoutRequest = errors.New("authz: invalid logout request")

// LogoutRequest is a checked RP-Initiated Logout 1.0 request.
type LogoutRequest struct {
	ClientID   string
	ClientName string
	// Subject is the sub of the id_token_hint, if one was given.
	Subject string
	// Redirect is where to send the browser afterwards, with state; empty
	// when the site gave no post_logout_redirect_uri.
	Redirect string
}

// ParseLogout checks an end-session request (OpenID Connect RP-Initiated
// Logout 1.0 §2–3): the id_token_hint must be one of Relais's ID tokens
// (an expired one is accepted, as §2 allows), client_id must agree with its
// audience, and post_logout_redirect_uri must be registered exactly.
func (p *Provider) ParseLogout(ctx context.Context, form url.Values) (LogoutRequest, error) {
	var lr LogoutRequest
	clientID := form.Get("client_id")
	if hint := form.Get("id_token_hint"); hint != "" {
		tok, err := p.atSigner.Decode(ctx, hint)
		var ve *jwt.ValidationError
		if err != nil && !(errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired) {
			return lr, fmt.Errorf("%w: id_token_hint is not a valid Relais ID token", ErrLogoutRequest)
		}
		claims := tok.Claims
		if iss, _ := claims["iss"].(string); iss != p.cfg.Issuer {
			return lr, fmt.Errorf("%w: id_token_hint was issued by someone else", ErrLogoutRequest)
		}
		aud := audiences(claims["aud"])
		if len(aud) == 0 {
			return lr, fmt.Errorf("%w: id_token_hint has no audience", ErrLogoutRequest)
		}
		if clientID == "" {
			clientID = aud[0]
		} else if !slices.Contains(aud, clientID) {
			return lr, fmt.Errorf("%w: client_id does not match the id_token_hint", ErrLogoutRequest)
		}
		lr.Subject, _ = claims["sub"].(string)
	}
	target := form.Get("post_logout_redirect_uri")
	if clientID == "" {
		if target != "" {
			return lr, fmt.Errorf("%w: post_logout_redirect_uri without a client", ErrLogoutRequest)
		}
		return lr, nil
	}
	c, err := p.clients.Client(ctx, clientID)
	if errors.Is(err, mandates.ErrNotFound) {
		return lr, fmt.Errorf("%w: unknown client", ErrLogoutRequest)
	} else if err != nil {
		return lr, err
	}
	lr.ClientID, lr.ClientName = c.ID, c.Name
	if target == "" {
		return lr, nil
	}
	if !slices.Contains(c.PostLogoutRedirectURIs, target) {
		return lr, fmt.Errorf("%w: post_logout_redirect_uri is not registered", ErrLogoutRequest)
	}
	u, err := url.Parse(target)
	if err != nil {
		return lr, fmt.Errorf("%w: post_logout_redirect_uri does not parse", ErrLogoutRequest)
	}
	if state := form.Get("state"); state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	lr.Redirect = u.String()
	return lr, nil
}

func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return a
	}
	return nil
}
