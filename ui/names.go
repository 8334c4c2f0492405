package ui

import (
	"context"
	"unicode"
	"unicode/utf8"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

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

// roleOf names a representative's role as a label (« Tutrice »), with the
// gender of the person who holds it when Relais knows it (PLAIN-LANGUAGE.md);
// otherwise, or when an organisation holds it, both forms (« Tuteur ou
// tutrice »).
func roleOf(v mandates.View) locales.Text {
	if v.Representative.PersonID == "" || v.RepresentativeGender == mandates.GenderUnspecified {
		return locales.Role(v.Role)
	}
	fr := roleNoun(v.Role, v.RepresentativeGender, "fr")
	if r, n := utf8.DecodeRuneInString(fr); n > 0 {
		fr = string(unicode.ToUpper(r)) + fr[n:]
	}
	return locales.Text{FR: fr, EN: locales.Role(v.Role).EN}
}
