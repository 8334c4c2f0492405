package letter

import (
	"errors"
	"slices"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

func TestAddressBlock(t *testing.T) {
	tests := []struct {
		name string
		who  string
		addr mandates.Address
		want []string
	}{
		{"a plain French address has the name, the street and the commune in capitals",
			"Jeanne Lefèvre", mandates.Address{Street: "12 rue des Lilas", PostalCode: "44000", Locality: "Nantes", Country: "France"},
			[]string{"Jeanne Lefèvre", "12 rue des Lilas", "44000 NANTES"}},
		{"the commune loses its accents and œ, as La Poste's machines read it",
			"Paul Durand", mandates.Address{Street: "3 place de l'Église", PostalCode: "42000", Locality: "Saint-Étienne"},
			[]string{"Paul Durand", "3 place de l'Église", "42000 SAINT-ETIENNE"}},
		{"a complement typed after the street moves above it and a BP below it",
			"Karim Benali", mandates.Address{Street: "BP 12\n8 avenue Foch\nRésidence Les Pins, bâtiment B\nAppartement 14", PostalCode: "69 003", Locality: "Lyon"},
			[]string{"Karim Benali", "Résidence Les Pins, bâtiment B", "Appartement 14", "8 avenue Foch", "BP 12", "69003 LYON"}},
		{"a lieu-dit comes after the street line",
			"Lucie Martin", mandates.Address{Street: "Lieu-dit Les Granges\n2 chemin du Moulin", PostalCode: "24200", Locality: "Sarlat-la-Canéda"},
			[]string{"Lucie Martin", "2 chemin du Moulin", "Lieu-dit Les Granges", "24200 SARLAT-LA-CANEDA"}},
		{"a country other than France is the last line, in capitals",
			"Anne Dupont", mandates.Address{Street: "5 rue Haute", PostalCode: "1000", Locality: "Bruxelles", Country: "Belgique"},
			[]string{"Anne Dupont", "5 rue Haute", "1000 BRUXELLES", "BELGIQUE"}},
		{"spaces and blank lines are folded away",
			"  Jeanne   Lefèvre ", mandates.Address{Street: "\n 12  rue des Lilas \n\n", PostalCode: "44000", Locality: " Nantes "},
			[]string{"Jeanne Lefèvre", "12 rue des Lilas", "44000 NANTES"}},
		{"a name of more than 38 characters goes on two lines, cut between words",
			"Marie-Amélie de La Tour d'Auvergne-Lauraguais", mandates.Address{Street: "12 rue des Lilas", PostalCode: "44000", Locality: "Nantes"},
			[]string{"Marie-Amélie de La Tour", "d'Auvergne-Lauraguais", "12 rue des Lilas", "44000 NANTES"}},
		{"an organisation's long name too",
			"Service mandataire judiciaire de l'UDAF de Loire-Atlantique", mandates.Address{Street: "BP 40123\n18 rue Nationale", PostalCode: "44000", Locality: "Nantes"},
			[]string{"Service mandataire judiciaire de", "l'UDAF de Loire-Atlantique", "18 rue Nationale", "BP 40123", "44000 NANTES"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AddressBlock(tt.who, tt.addr)
			if err != nil {
				t.Fatalf("AddressBlock: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddressBlockRefuses(t *testing.T) {
	long := "Résidence des Grands Chênes du Val de Loire, bâtiment C"
	tests := []struct {
		name string
		who  string
		addr mandates.Address
		want AddressError
	}{
		{"an address without a postal code", "Jeanne Lefèvre",
			mandates.Address{Street: "12 rue des Lilas", Locality: "Nantes"},
			AddressError{Field: "postal_code", Rule: RuleMissing}},
		{"an address without a commune", "Jeanne Lefèvre",
			mandates.Address{Street: "12 rue des Lilas", PostalCode: "44000"},
			AddressError{Field: "locality", Rule: RuleMissing}},
		{"an address without a street", "Jeanne Lefèvre",
			mandates.Address{PostalCode: "44000", Locality: "Nantes"},
			AddressError{Field: "street", Rule: RuleMissing}},
		{"no address at all", "Jeanne Lefèvre", mandates.Address{},
			AddressError{Field: "street", Rule: RuleMissing}},
		{"a recipient without a name", " ",
			mandates.Address{Street: "12 rue des Lilas", PostalCode: "44000", Locality: "Nantes"},
			AddressError{Field: "name", Rule: RuleMissing}},
		{"a French postal code that is not 5 digits", "Jeanne Lefèvre",
			mandates.Address{Street: "12 rue des Lilas", PostalCode: "4400", Locality: "Nantes"},
			AddressError{Field: "postal_code", Rule: RuleFormat}},
		{"a street line of more than 38 characters", "Jeanne Lefèvre",
			mandates.Address{Street: "12 rue des Lilas\n" + long, PostalCode: "44000", Locality: "Nantes"},
			AddressError{Field: "street", Rule: RuleTooLong, Limit: 38, Line: 2}},
		{"a name too long for two lines of 38 characters", "Marie-Amélie Françoise Joséphine Hortense de La Tour d'Auvergne-Lauraguais",
			mandates.Address{Street: "12 rue des Lilas", PostalCode: "44000", Locality: "Nantes"},
			AddressError{Field: "name", Rule: RuleTooLong, Limit: 38, Line: 2}},
		{"a word of the name longer than a line", "Jeanne Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson",
			mandates.Address{Street: "12 rue des Lilas", PostalCode: "44000", Locality: "Nantes"},
			AddressError{Field: "name", Rule: RuleTooLong, Limit: 38, Line: 1}},
		{"a long name's second line counts in the six", "Service mandataire judiciaire de l'UDAF de Loire-Atlantique",
			mandates.Address{Street: "Appartement 3\nBâtiment B\n12 rue des Lilas\nBP 4", PostalCode: "44000", Locality: "Nantes"},
			AddressError{Field: "street", Rule: RuleTooMany, Limit: 6}},
		{"a commune line of more than 38 characters", "Jeanne Lefèvre",
			mandates.Address{Street: "1 rue Haute", PostalCode: "51290", Locality: "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson"},
			AddressError{Field: "locality", Rule: RuleTooLong, Limit: 38, Line: 3}},
		{"seven lines", "Jeanne Lefèvre",
			mandates.Address{Street: "Chez M. Martin\nAppartement 3\nBâtiment B\n12 rue des Lilas\nBP 4", PostalCode: "44000", Locality: "Nantes"},
			AddressError{Field: "street", Rule: RuleTooMany, Limit: 6}},
		{"six lines and a country make seven", "Anne Dupont",
			mandates.Address{Street: "Appartement 3\nBâtiment B\n12 rue Haute\nBP 4", PostalCode: "1000", Locality: "Bruxelles", Country: "Belgique"},
			AddressError{Field: "street", Rule: RuleTooMany, Limit: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AddressBlock(tt.who, tt.addr)
			if !errors.Is(err, ErrAddress) {
				t.Fatalf("AddressBlock = %q, %v; want ErrAddress", got, err)
			}
			var ae *AddressError
			if !errors.As(err, &ae) {
				t.Fatalf("%v is not an *AddressError", err)
			}
			if *ae != tt.want {
				t.Errorf("got %+v, want %+v", *ae, tt.want)
			}
		})
	}
}
