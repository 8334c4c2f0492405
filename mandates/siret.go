package mandates

import (
	"context"
	"strings"
)

// SIRET is an establishment's number in the SIRENE register: 14 digits,
// the 9 of its company's SIREN then 5 of its own. NormalSIRET takes the
// spaces out (« 356 000 000 00048 » is written with them).
func NormalSIRET(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), " ", "") }

// laPosteSIREN is La Poste's SIREN: its establishments are too many for the
// Luhn key, and the INSEE numbers them so that the sum of the digits is a
// multiple of 5 instead.
const laPosteSIREN = "356000000"

// ValidSIRET says whether s (without spaces) is a SIRET: 14 digits whose
// Luhn sum is a multiple of 10, or, for La Poste's establishments, whose
// digits add up to a multiple of 5.
func ValidSIRET(s string) bool {
	if len(s) != 14 {
		return false
	}
	luhn, plain := 0, 0
	for i, r := range s {
		if r < '0' || r > '9' {
			return false
		}
		d := int(r - '0')
		plain += d
		if i%2 == 0 { // from the right, every second digit of 14 is doubled
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		luhn += d
	}
	if luhn%10 == 0 {
		return true
	}
	return strings.HasPrefix(s, laPosteSIREN) && plain%5 == 0
}

// SIRETStore finds an organisation by its SIRET.
type SIRETStore interface {
	// OrganisationBySIRET returns the organisation with that SIRET:
	// ErrNotFound when none has it (or for an empty one).
	OrganisationBySIRET(ctx context.Context, siret string) (Organisation, error)
}
