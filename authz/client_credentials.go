package authz

import (
	"context"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// clientCredentialsGrant is fosite's client credentials handler, with RFC
// 6749 §5.2's error for a public client: the client is not allowed this
// grant (unauthorized_client); fosite says invalid_grant, which is about a
// code or refresh token the request does not carry.
type clientCredentialsGrant struct {
	*oauth2.ClientCredentialsGrantHandler
}

func (h clientCredentialsGrant) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if h.CanHandleTokenEndpointRequest(ctx, r) && r.GetClient().IsPublic() {
		// RFC 6749 §4.4: "The client credentials grant type MUST only be
		// used by confidential clients."
		return fosite.ErrUnauthorizedClient.WithHint("A public client cannot use the client_credentials grant.")
	}
	return h.ClientCredentialsGrantHandler.HandleTokenEndpointRequest(ctx, r)
}
