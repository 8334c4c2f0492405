package authz

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// Subject is the sub a client sees for a person. Pairwise by default (OIDC
// Core §8.1): derived from the client's sector identifier, the local id
// and a secret salt, so two sites of one sector see the same sub and two
// sectors never do; "public" clients see the local id.
func (p *Provider) Subject(c oauth.Client, personID string) string {
	if c.SubjectType == oauth.SubjectPublic {
		return personID
	}
	return pairwiseSubject(p.pairwise, sector(c), personID)
}

func pairwiseSubject(salt []byte, sector, personID string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(sector))
	m.Write([]byte{0})
	m.Write([]byte(personID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sector is the registered sector identifier, or the host of the first
// redirect URI (OIDC Core §8.1 when no sector_identifier_uri is given).
func sector(c oauth.Client) string {
	if c.SectorIdentifier != "" {
		return strings.ToLower(c.SectorIdentifier)
	}
	for _, raw := range c.RedirectURIs {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			return strings.ToLower(u.Hostname())
		}
	}
	return c.ID
}

// Scopes that ask for claims. As FranceConnect does, each claim can be
// asked for by its own name; identite_pivot asks for the pivot identity;
// profile, email, phone and address are OIDC Core §5.4's bundles.
var scopeClaims = map[string][]string{
	// name (OIDC Core §5.1) is mandates.DisplayName, the one name Relais's
	// pages and letters give the person, for sites to show the same.
	"profile":            {"name", "given_name", "given_name_array", "family_name", "preferred_username", "birthdate", "gender"},
	"email":              {"email", "email_verified"},
	"phone":              {"phone_number"},
	"address":            {"address"},
	"identite_pivot":     {"given_name", "given_name_array", "family_name", "birthdate", "gender", "birthplace", "birthcountry"},
	"given_name":         {"given_name", "given_name_array"},
	"family_name":        {"family_name"},
	"preferred_username": {"preferred_username"},
	"birthdate":          {"birthdate"},
	"gender":             {"gender"},
	"birthplace":         {"birthplace"},
	"birthcountry":       {"birthcountry"},
}

// ClaimScopes lists every scope that asks for claims, for discovery.
func ClaimScopes() []string {
	out := make([]string, 0, len(scopeClaims))
	for s := range scopeClaims {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// SupportedClaims lists every claim Relais can give, for discovery.
func SupportedClaims() []string {
	seen := map[string]bool{"sub": true, "iss": true, "aud": true, "exp": true, "iat": true, "auth_time": true,
		"nonce": true, "acr": true, "amr": true,
		// Acting for someone (DESIGN.md §4): who acts, under which
		// representation; and a person's own measure, with its scope.
		"act": true, "representation": true, ScopeProtection: true}
	for _, cs := range scopeClaims {
		for _, c := range cs {
			seen[c] = true
		}
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// IdentityClaims returns the claims about p that the granted scopes ask for,
// with FranceConnect's names and meanings: preferred_username carries the
// nom d'usage, birthplace and birthcountry are INSEE codes.
func IdentityClaims(p mandates.Person, scopes []string) map[string]any {
	want := map[string]bool{}
	for _, s := range scopes {
		for _, c := range scopeClaims[s] {
			want[c] = true
		}
	}
	out := map[string]any{}
	set := func(name string, v any, present bool) {
		if want[name] && present {
			out[name] = v
		}
	}
	given := strings.Fields(p.GivenNames)
	name := mandates.DisplayName(p)
	set("name", name, name != "")
	set("given_name", strings.Join(given, " "), len(given) > 0)
	set("given_name_array", given, len(given) > 0)
	set("family_name", p.FamilyName, p.FamilyName != "")
	set("preferred_username", p.PreferredName, p.PreferredName != "")
	set("birthdate", p.BirthDate.Format("2006-01-02"), !p.BirthDate.IsZero())
	set("gender", string(p.Gender), p.Gender != mandates.GenderUnspecified)
	set("birthplace", p.BirthPlace.Code, p.BirthPlace.Code != "")
	set("birthcountry", p.BirthCountry, p.BirthCountry != "")
	set("email", p.Email, p.Email != "")
	// Relais does not yet confirm addresses by a link: say so rather than
	// let a site assume it.
	set("email_verified", false, p.Email != "")
	set("phone_number", p.Phone, p.Phone != "")
	a := p.Address
	set("address", map[string]string{"formatted": a.Formatted(), "street_address": a.Street, "postal_code": a.PostalCode,
		"locality": a.Locality, "country": a.Country}, !a.IsZero())
	return out
}
