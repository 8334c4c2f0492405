package mandates

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func validPerson() Person {
	return Person{
		ID: NewID(time.Now()), GivenNames: "Jean", FamilyName: "Martin", BirthDate: Date(1950, time.May, 1),
		BirthPlace: Place{Code: "2A004", Label: "Ajaccio"}, BirthCountry: "99100", Gender: GenderMale,
		Email: "jean.martin@example.fr", Language: "fr",
	}
}

func TestPersonValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Person)
		field  string // "" when valid
	}{
		{"a complete person is valid", func(*Person) {}, ""},
		{"a person without email or phone is valid", func(p *Person) { p.Email, p.Phone = "", "" }, ""},
		{"a person born abroad has no commune code", func(p *Person) { p.BirthPlace = Place{Label: "Oran"}; p.BirthCountry = "99352" }, ""},
		{"the id must be a UUID", func(p *Person) { p.ID = "jean" }, "id"},
		{"given names are required", func(p *Person) { p.GivenNames = "  " }, "given_names"},
		{"the family name is required", func(p *Person) { p.FamilyName = "" }, "family_name"},
		{"the birth date is required", func(p *Person) { p.BirthDate = time.Time{} }, "birth_date"},
		{"the birth date is a date, not an instant", func(p *Person) { p.BirthDate = p.BirthDate.Add(time.Hour) }, "birth_date"},
		{"the birth place is an INSEE code", func(p *Person) { p.BirthPlace.Code = "750" }, "birth_place"},
		{"Corsica's letters only in second place", func(p *Person) { p.BirthPlace.Code = "A2004" }, "birth_place"},
		{"the birth country is an INSEE code", func(p *Person) { p.BirthCountry = "FR" }, "birth_country"},
		{"gender is female, male or empty", func(p *Person) { p.Gender = "x" }, "gender"},
		{"the email is an address", func(p *Person) { p.Email = "Jean <jean@example.fr>" }, "email"},
		{"the language is fr or en", func(p *Person) { p.Language = "de" }, "language"},
		{"names are bounded", func(p *Person) { p.FamilyName = strings.Repeat("a", 201) }, "family_name"},
		{"names are valid text", func(p *Person) { p.PreferredName = "\xff" }, "preferred_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPerson()
			tt.change(&p)
			err := p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var inv *InvalidError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &inv) || inv.Field != tt.field {
				t.Errorf("Validate = %v, want ErrInvalid naming %s", err, tt.field)
			}
		})
	}
}

func TestEmailKey(t *testing.T) {
	if got := EmailKey("  Jean.Martin@Example.FR "); got != "jean.martin@example.fr" {
		t.Errorf("EmailKey = %q", got)
	}
}

func TestUniqueErrorIsAlreadyExists(t *testing.T) {
	var err error = &UniqueError{Entity: "person", Field: "email"}
	if !errors.Is(err, ErrAlreadyExists) || errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is on %v is wrong", err)
	}
}
