package mandates

import "testing"

func TestPivotKeyComparesAsFranceConnectDoes(t *testing.T) {
	jeanne := Person{GivenNames: "Jeanne Marie", FamilyName: "Lefèvre", BirthDate: Date(1941, 3, 2),
		BirthPlace: Place{Code: "75056"}, BirthCountry: "99100", Gender: GenderFemale}
	key := PivotKey(jeanne)
	if key != "jeanne marie|lefevre|1941-03-02|75056|99100|female" {
		t.Fatalf("PivotKey = %q", key)
	}
	same := []struct {
		name string
		edit func(*Person)
	}{
		{"capitals and accents", func(p *Person) { p.GivenNames, p.FamilyName = "JEANNE MARIE", "LEFEVRE" }},
		{"a hyphen and extra spaces", func(p *Person) { p.GivenNames = "  Jeanne-Marie " }},
		{"the country left out for a French birth place", func(p *Person) { p.BirthCountry = "" }},
		{"a usage name and a different address", func(p *Person) { p.PreferredName, p.Address.Street = "Dupont", "1 rue" }},
	}
	for _, c := range same {
		t.Run(c.name, func(t *testing.T) {
			p := jeanne
			c.edit(&p)
			if got := PivotKey(p); got != key {
				t.Errorf("PivotKey = %q, want %q", got, key)
			}
		})
	}
	other := []struct {
		name string
		edit func(*Person)
	}{
		{"given names in another order", func(p *Person) { p.GivenNames = "Marie Jeanne" }},
		{"one given name missing", func(p *Person) { p.GivenNames = "Jeanne" }},
		{"another birth date", func(p *Person) { p.BirthDate = Date(1941, 3, 3) }},
		{"another birth place", func(p *Person) { p.BirthPlace.Code = "69123" }},
		{"another gender", func(p *Person) { p.Gender = GenderMale }},
		{"born abroad", func(p *Person) { p.BirthPlace.Code, p.BirthCountry = "", "99134" }},
	}
	for _, c := range other {
		t.Run(c.name, func(t *testing.T) {
			p := jeanne
			c.edit(&p)
			if got := PivotKey(p); got == key {
				t.Errorf("PivotKey = %q, the same as Jeanne's", got)
			}
		})
	}
	for name, p := range map[string]Person{
		"no given names": {FamilyName: "Lefèvre", BirthDate: Date(1941, 3, 2)},
		"no birth date":  {GivenNames: "Jeanne", FamilyName: "Lefèvre"},
		"only a hyphen":  {GivenNames: "-", FamilyName: "Lefèvre", BirthDate: Date(1941, 3, 2)},
	} {
		if got := PivotKey(p); got != "" {
			t.Errorf("%s: PivotKey = %q, want empty: it must match nobody", name, got)
		}
	}
}
