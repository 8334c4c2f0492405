package ui

import (
	"net/url"
	"strings"

	"github.com/relais-fr/relais/mandates"
)

// An organisation's postal address, on the operator's form that creates
// it: its inputs are named as mandates names the fields, so the
// domain's refusals land next to the right input.

// orgAddressInputs are the address's inputs, in page order.
var orgAddressInputs = []string{"address_street", "address_postal_code", "address_locality", "address_country"}

// orgAddressOf reads the address's inputs; mandates trims them.
func orgAddressOf(form url.Values) mandates.Address {
	return mandates.Address{Street: form.Get("address_street"), PostalCode: form.Get("address_postal_code"),
		Locality: form.Get("address_locality"), Country: form.Get("address_country")}
}

// orgAddressProblems records the address's problems before the domain
// sees the form, so the operator sees them with the form's others: the
// parts a letter needs (mandates.RequirePostalAddress), and each part's
// length.
func orgAddressProblems(a mandates.Address, p *formProblems) {
	orgAddressProblem(invalidOf(mandates.RequirePostalAddress(a)), p)
	for i, v := range []string{a.Street, a.PostalCode, a.Locality, a.Country} {
		if len(v) > 200 {
			orgAddressProblem(&mandates.InvalidError{Field: orgAddressInputs[i], Rule: mandates.RuleTooLong, Limit: 200}, p)
		}
	}
}

// orgAddressProblem puts inv next to its input when it is about the
// address, and says whether it was.
func orgAddressProblem(inv *mandates.InvalidError, p *formProblems) bool {
	if inv == nil {
		return false
	}
	switch {
	case inv.Field == "address_postal_code" && inv.Rule == mandates.RuleFormat:
		p.add(inv.Field, "org.address.problem.postal_code_format")
	case inv.Rule == mandates.RuleTooLong && inv.Limit == mandates.EnvelopeLineChars:
		p.add(inv.Field, "org.address.problem.envelope_line")
	case inv.Field == "address_street" && inv.Rule == mandates.RuleTooMany:
		p.add(inv.Field, "org.address.problem.envelope_lines")
	case inv.Field == "address_street", inv.Field == "address_postal_code", inv.Field == "address_locality", inv.Field == "address_country":
		p.add(inv.Field, "org.address.problem."+inv.Field[len("address_"):])
	default:
		return false
	}
	return true
}

// addressLines is the address as it is written on an envelope, one line
// each; none for an organisation recorded before organisations had one.
func addressLines(a mandates.Address) []string {
	if a.IsZero() {
		return nil
	}
	return strings.Split(a.Formatted(), "\n")
}

// apiOrgAddress is an organisation's postal address in the JSON API,
// its members named as the domain names the fields, so a refusal's
// error_description ("address_postal_code is missing.") names the member
// to correct.
type apiOrgAddress struct {
	Street     string `json:"address_street"`
	PostalCode string `json:"address_postal_code"`
	Locality   string `json:"address_locality"`
	Country    string `json:"address_country"`
}

func orgAddressJSON(a mandates.Address) apiOrgAddress {
	return apiOrgAddress{Street: a.Street, PostalCode: a.PostalCode, Locality: a.Locality, Country: a.Country}
}

func (a apiOrgAddress) address() mandates.Address {
	return mandates.Address{Street: a.Street, PostalCode: a.PostalCode, Locality: a.Locality, Country: a.Country}
}
