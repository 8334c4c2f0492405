package mandates

import "testing"

func TestValidSIRET(t *testing.T) {
	tests := []struct {
		name  string
		siret string
		want  bool
	}{
		{"a SIRET whose Luhn key is right", "73282932000074", true},
		{"one digit changed", "73282932000075", false},
		{"13 digits", "7328293200007", false},
		{"a letter", "7328293200007A", false},
		{"La Poste's head office, whose Luhn key is right", "35600000000048", true},
		{"La Poste: the Luhn key fails, the digits add up to a multiple of 5", "35600000000001", true},
		{"La Poste: neither", "35600000000002", false},
		{"another company with the same digits: the Luhn key alone counts", "35700000000000", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidSIRET(tt.siret); got != tt.want {
				t.Errorf("ValidSIRET(%q) = %v, want %v", tt.siret, got, tt.want)
			}
		})
	}
	if NormalSIRET(" 356 000 000 00048 ") != "35600000000048" {
		t.Error("NormalSIRET keeps spaces")
	}
}
