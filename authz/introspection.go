package authz

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/relais-fr/relais/mandates"
)

// newIntrospectionRequest is RFC 7662 §2.1 as Relais answers it: the caller
// authenticates as a client, by the method it registered (client secret in
// Basic or in the form, or a private_key_jwt assertion), and learns only of
// the tokens it is a party to. fosite's own request handler also takes any
// valid access token as the caller's credential and answers for every
// client's tokens, which made the endpoint an oracle (RFC 7662 §4).
func (p *Provider) newIntrospectionRequest(ctx context.Context, r *http.Request) (fosite.IntrospectionResponder, error) {
	inactive := &fosite.IntrospectionResponse{Active: false}
	if err := r.ParseForm(); err != nil {
		return inactive, fosite.ErrInvalidRequest.WithHint("The request body could not be read.").WithWrap(err)
	}
	if k := duplicated(r.PostForm); k != "" {
		return inactive, fosite.ErrInvalidRequest.WithHintf("The parameter '%s' is included more than once.", k)
	}
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); scheme != "" && !strings.EqualFold(scheme, "Basic") {
		// A bearer access token says someone was given access, not which
		// client asks: RFC 7662 §2.1 has the caller authenticate.
		return inactive, fosite.ErrInvalidClient.WithHint("Authenticate as a client with the method it registered; an access token is not a client credential.")
	}
	f, ok := p.oauth.(*fosite.Fosite)
	if !ok {
		return inactive, fosite.ErrServerError.WithDebug("the provider is not fosite's")
	}
	caller, err := f.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		var rfc *fosite.RFC6749Error
		if errors.As(err, &rfc) && rfc.CodeField < 500 && !errors.Is(err, fosite.ErrInvalidClient) {
			// RFC 6749 §5.2: a request with no client authentication, or
			// one that cannot be read, is invalid_client.
			err = fosite.ErrInvalidClient.WithHint(rfc.HintField).WithWrap(err)
		}
		return inactive, err
	}
	if caller.IsPublic() {
		// A public client proves nothing of who it is (RFC 6749 §2.1).
		return inactive, fosite.ErrInvalidClient.WithHint("A public client cannot introspect tokens.")
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return inactive, fosite.ErrInvalidRequest.WithHint("The token parameter is required.")
	}
	use, ar, err := f.IntrospectToken(ctx, token, fosite.TokenUse(r.PostForm.Get("token_type_hint")), NewSession())
	if err != nil {
		if errors.Is(err, mandates.ErrUnavailable) {
			return inactive, err
		}
		return inactive, fosite.ErrInactiveToken.WithWrap(err)
	}
	if !isParty(caller.GetID(), ar) {
		// RFC 7662 §2.2 lets the server answer inactive to a caller not
		// allowed to know; saying "not yours" would confirm the token.
		return inactive, nil
	}
	resp := &fosite.IntrospectionResponse{Active: true, AccessRequester: ar, TokenUse: use}
	if use == fosite.AccessToken {
		resp.AccessTokenType = fosite.BearerAccessToken
		if s, ok := ar.GetSession().(*Session); ok {
			if s.DPoPJKT != "" {
				// RFC 9449 §6.2: a bound token is introspected as DPoP,
				// with its cnf.
				resp.AccessTokenType = TokenTypeDPoP
			}
			s.introspectedType = resp.AccessTokenType
		}
	}
	return resp, nil
}

// isParty says whether client is the token's own client or one of its
// audiences (a resource server registered as a client, RFC 7662 §4).
func isParty(client string, ar fosite.Requester) bool {
	return client != "" && (client == ar.GetClient().GetID() || slices.Contains(ar.GetGrantedAudience(), client))
}
