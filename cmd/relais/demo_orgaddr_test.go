package main

import (
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices/letter"
)

// TestEveryDemoOrganisationCanBeWrittenTo: each demo organisation has the
// postal address a new one needs, and the letter channel can print it.
func TestEveryDemoOrganisationCanBeWrittenTo(t *testing.T) {
	for _, o := range demoOrganisations {
		if err := mandates.RequirePostalAddress(o.org.Address); err != nil {
			t.Errorf("%s: %v", o.org.Name, err)
		}
		if _, err := letter.AddressBlock(o.org.Name, o.org.Address); err != nil {
			t.Errorf("%s: the letter channel refuses its address: %v", o.org.Name, err)
		}
	}
}
