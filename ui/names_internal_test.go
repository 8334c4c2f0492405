package ui

import (
	"context"
	"testing"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// oneClient is a client store that holds one site.
type oneClient struct {
	oauth.ClientStore
	c oauth.Client
}

func (o oneClient) Client(_ context.Context, id string) (oauth.Client, error) {
	if id != o.c.ID {
		return oauth.Client{}, mandates.ErrNotFound
	}
	return o.c, nil
}

// Issue 17: one site, one name on every page, and the same fallback
// everywhere when Relais has no name for it.
func TestASiteIsNamedByItsRegisteredNameOrElseItsID(t *testing.T) {
	o := &OIDC{Clients: oneClient{c: oauth.Client{ID: "caf", Name: "Caisse d’allocations familiales"}}}
	tests := []struct {
		name string
		o    *OIDC
		id   string
		want string
	}{
		{"a registered site by its name", o, "caf", "Caisse d’allocations familiales"},
		{"a deleted site by its client id", o, "ancien-site", "ancien-site"},
		{"without a client store, by its client id", nil, "caf", "caf"},
		{"no site, no name", o, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nameOfSite(t.Context(), tt.o, tt.id); got != tt.want {
				t.Errorf("nameOfSite = %q, want %q", got, tt.want)
			}
		})
	}
}

// Issue 17: acting for another person, every information a site may ask
// for is worded about that person, in both languages.
func TestEveryActingScopeLabelIsInTheCatalogues(t *testing.T) {
	fr, en := catalogue(t, "fr"), catalogue(t, "en")
	var ids []string
	for _, id := range scopeLabels {
		ids = append(ids, id)
	}
	for _, id := range actingItems(ids) {
		if fr[id] == "" || en[id] == "" {
			t.Errorf("label %q missing", id)
		}
	}
}

// Issue 17: a representative's role agrees with their gender when Relais
// knows it; both forms only when it does not, or for an organisation.
func TestARoleIsNamedWithTheHoldersGender(t *testing.T) {
	view := func(person string, g mandates.Gender, role mandates.Role) mandates.View {
		return mandates.View{Representation: mandates.Representation{Role: role,
			Representative: mandates.Representative{PersonID: person, OrganisationID: map[bool]string{true: "org"}[person == ""]}},
			RepresentativeGender: g}
	}
	tests := []struct {
		name string
		v    mandates.View
		want string
	}{
		{"a woman is « Tutrice »", view("marie", mandates.GenderFemale, mandates.RoleTuteur), "Tutrice"},
		{"a man is « Curateur »", view("paul", mandates.GenderMale, mandates.RoleCurateur), "Curateur"},
		{"an unknown gender keeps both forms", view("camille", mandates.GenderUnspecified, mandates.RoleTuteur), "Tuteur ou tutrice"},
		{"an organisation keeps both forms", view("", mandates.GenderUnspecified, mandates.RoleCurateur), "Curateur ou curatrice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roleOf(tt.v).In("fr"); got != tt.want {
				t.Errorf("roleOf = %q, want %q", got, tt.want)
			}
		})
	}
}
