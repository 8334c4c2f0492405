package mandates

import (
	"errors"
	"testing"
)

// udafAddress is a complete French postal address for the organisations
// the tests create.
var udafAddress = Address{Street: "12 rue Servient", PostalCode: "69003", Locality: "Lyon", Country: "France"}

func TestANewOrganisationGetsItsAddress(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	admin := w.person("Alice", "Admin")
	in := Address{Street: "  Bâtiment B \r\n\r\n 12 rue Servient  ", PostalCode: " 69003 ", Locality: " Lyon", Country: ""}
	o, err := w.svc.CreateOrganisation(w.ctx, w.op, Organisation{Name: "UDAF du Rhône", Kind: OrgMJPMService, Address: in}, admin)
	if err != nil {
		t.Fatal(err)
	}
	want := Address{Street: "Bâtiment B\n12 rue Servient", PostalCode: "69003", Locality: "Lyon"}
	if o.Address != want {
		t.Errorf("address %+v, want %+v (each part and line trimmed, blank lines dropped)", o.Address, want)
	}
	if stored := w.st.orgs[o.ID]; stored.Address != want {
		t.Errorf("stored address %+v, want %+v", stored.Address, want)
	}
}

func TestANewOrganisationWithoutAPostalAddressIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		a     Address
		field string
		rule  Rule
	}{
		{"no address at all", Address{}, "address_street", RuleRequired},
		{"a blank street", Address{Street: " \n ", PostalCode: "69003", Locality: "Lyon"}, "address_street", RuleRequired},
		{"no postal code", Address{Street: "12 rue Servient", Locality: "Lyon", Country: "France"}, "address_postal_code", RuleRequired},
		{"no commune", Address{Street: "12 rue Servient", PostalCode: "69003", Country: "France"}, "address_locality", RuleRequired},
		{"a French postal code of 4 digits", Address{Street: "12 rue Servient", PostalCode: "6903", Locality: "Lyon", Country: "France"},
			"address_postal_code", RuleFormat},
		{"a French postal code with letters, country not given", Address{Street: "12 rue Servient", PostalCode: "69OO3", Locality: "Lyon"},
			"address_postal_code", RuleFormat},
		{"a street longer than 200 bytes", Address{Street: string(make([]byte, 201)), PostalCode: "69003", Locality: "Lyon"},
			"address_street", RuleTooLong},
		{"a street line longer than an envelope's 38 characters", Address{Street: "Résidence des Grands Chênes du Val de Loire\n12 rue Servient",
			PostalCode: "69003", Locality: "Lyon"}, "address_street", RuleTooLong},
		{"more street lines than an envelope holds", Address{Street: "Bâtiment B\nEscalier 2\nRésidence Les Pins\n12 rue Servient\nBP 12",
			PostalCode: "69003", Locality: "Lyon"}, "address_street", RuleTooMany},
		{"a postal code and commune longer than 38 characters", Address{Street: "1 rue Haute", PostalCode: "51290",
			Locality: "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson"}, "address_locality", RuleTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			admin := w.person("Alice", "Admin")
			_, err := w.svc.CreateOrganisation(w.ctx, w.op, Organisation{Name: "UDAF du Rhône", Kind: OrgMJPMService, Address: tt.a}, admin)
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != tt.field || inv.Rule != tt.rule {
				t.Fatalf("CreateOrganisation = %v, want %s %s", err, tt.field, tt.rule)
			}
			if len(w.st.orgs) != 0 || len(w.st.events) != 0 {
				t.Errorf("a refused organisation left %d organisations, %d events", len(w.st.orgs), len(w.st.events))
			}
		})
	}
}

func TestAForeignPostalCodeIsTheCountrysBusiness(t *testing.T) {
	a := Address{Street: "Rue de la Loi 16", PostalCode: "B-1000", Locality: "Bruxelles", Country: "Belgique"}
	if err := RequirePostalAddress(a); err != nil {
		t.Errorf("a Belgian address: %v, want it accepted", err)
	}
	a.Country = "FR"
	if err := RequirePostalAddress(a); !errors.Is(err, ErrInvalid) {
		t.Errorf("the same postal code in France: %v, want ErrInvalid", err)
	}
}

func TestAnOrganisationRecordedWithoutAnAddressStaysValid(t *testing.T) {
	o := Organisation{ID: NewID(applyNow), Name: "CCAS de Bron", Kind: OrgCCAS}
	if err := o.Validate(); err != nil {
		t.Errorf("an organisation without an address: %v, want valid", err)
	}
	o.Address.Locality = string([]byte{0xff})
	var inv *InvalidError
	if err := o.Validate(); !errors.As(err, &inv) || inv.Field != "address_locality" || inv.Rule != RuleFormat {
		t.Errorf("a commune that is not UTF-8: %v, want address_locality format", err)
	}
}
