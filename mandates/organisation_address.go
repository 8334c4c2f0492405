package mandates

import (
	"strings"
	"unicode/utf8"
)

// An envelope's address block (NF Z 10-011) has at most 6 lines of at
// most 38 characters: the name takes one or two (a long name is cut
// between words), the postal code and commune one, the country one when
// it is not France, which leaves 3 lines for the street part in France
// and 2 abroad.
const (
	EnvelopeLineChars   = 38
	envelopeStreetLines = 3
)

// An organisation's postal address is where its paper letters go: the
// notices of the representations it holds (an MJPM service's measures, a
// France Services desk's mandates) are sent on paper by default, and a
// letter without an address waits for an operator forever.
//
// Organisation.Validate only bounds the address's fields, as
// Person.Validate does, so the organisations recorded before they had an
// address stay valid with an empty one; Service.CreateOrganisation
// requires a complete one (RequirePostalAddress) for every new one.

// RequirePostalAddress reports the first part of a that a letter cannot
// do without: the street, the postal code and the commune, and a French
// postal code of 5 digits when the country is France (or not given,
// which means France); and lines that fit an envelope (envelopeFits).
// Its errors name the fields as Person.Validate does: address_street,
// address_postal_code, address_locality, address_country.
func RequirePostalAddress(a Address) error {
	switch {
	case strings.TrimSpace(a.Street) == "":
		return invalid("address_street", RuleRequired)
	case strings.TrimSpace(a.PostalCode) == "":
		return invalid("address_postal_code", RuleRequired)
	case strings.TrimSpace(a.Locality) == "":
		return invalid("address_locality", RuleRequired)
	case inFrance(a) && !isFrenchPostalCode(a.PostalCode):
		return invalid("address_postal_code", RuleFormat)
	}
	return envelopeFits(a)
}

// envelopeFits reports the first part of a that would not fit an
// envelope's address block, so every letter to it would be refused.
func envelopeFits(a Address) error {
	most := envelopeStreetLines
	if !inFrance(a) {
		most--
	}
	var lines int
	for l := range strings.SplitSeq(a.Street, "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			continue
		}
		if lines++; utf8.RuneCountInString(l) > EnvelopeLineChars {
			return invalidLimit("address_street", RuleTooLong, EnvelopeLineChars)
		}
	}
	code := strings.Join(strings.Fields(a.PostalCode), "")
	switch {
	case lines > most:
		return invalidLimit("address_street", RuleTooMany, most)
	case utf8.RuneCountInString(code)+1+utf8.RuneCountInString(strings.TrimSpace(a.Locality)) > EnvelopeLineChars:
		return invalidLimit("address_locality", RuleTooLong, EnvelopeLineChars)
	case utf8.RuneCountInString(strings.TrimSpace(a.Country)) > EnvelopeLineChars:
		return invalidLimit("address_country", RuleTooLong, EnvelopeLineChars)
	}
	return nil
}

// inFrance says whether the address is in France: its country is France
// or not given.
func inFrance(a Address) bool {
	switch strings.ToLower(strings.TrimSpace(a.Country)) {
	case "", "france", "fr", "fra":
		return true
	}
	return false
}

// isFrenchPostalCode accepts 5 digits, spaces aside ("69 002" is how some
// people write it).
func isFrenchPostalCode(s string) bool {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) != 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// trimAddress trims each part of a, and each line of its street.
func trimAddress(a Address) Address {
	lines := strings.Split(strings.ReplaceAll(a.Street, "\r\n", "\n"), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	return Address{Street: strings.Join(kept, "\n"), PostalCode: strings.TrimSpace(a.PostalCode), Locality: strings.TrimSpace(a.Locality),
		Country: strings.TrimSpace(a.Country)}
}
