package ui

import "context"

// nameOfSite is how every page names a site (issue 17: one site, one
// name): the name it was registered with. A site that has been deleted
// since, or that Relais cannot read now, is named by its client id, the
// same way on every page. The login page names only a registered site
// (signInPages.siteName): an authorization request's client id is not a
// site until Relais knows it.
func nameOfSite(ctx context.Context, o *OIDC, clientID string) string {
	if clientID == "" {
		return ""
	}
	if o != nil && o.Clients != nil {
		if c, err := o.Clients.Client(ctx, clientID); err == nil && c.Name != "" {
			return c.Name
		}
	}
	return clientID
}
