package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
)

// demoPerson is one demo account. Ids are fixed so a second start finds
// what the first one wrote instead of adding it again.
type demoPerson struct {
	person   mandates.Person
	password string
	role     string
}

// The demo identities are invented; birth places are real INSEE codes.
var demoPersons = []demoPerson{
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000001", GivenNames: "Jeanne Odette", FamilyName: "Lefèvre",
		BirthDate: mandates.Date(1941, time.March, 12), BirthPlace: mandates.Place{Code: "69123", Label: "Lyon"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "jeanne.lefevre@demo.example", Phone: "04 78 00 00 01", Language: "fr",
		Address: mandates.Address{Street: "8 rue Victor Hugo", PostalCode: "69002", Locality: "Lyon", Country: "France"}},
		"jeanne-demo-2026", "person under tutelle"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000002", GivenNames: "Marie Claire", FamilyName: "Lefèvre", PreferredName: "Martin",
		BirthDate: mandates.Date(1968, time.September, 4), BirthPlace: mandates.Place{Code: "69266", Label: "Villeurbanne"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "marie.martin@demo.example", Phone: "06 00 00 00 02", Language: "fr",
		Address: mandates.Address{Street: "25 avenue Roger Salengro", PostalCode: "69100", Locality: "Villeurbanne", Country: "France"}},
		"marie-demo-2026", "daughter and family tutor of Jeanne"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000003", GivenNames: "Paul André", FamilyName: "Durand",
		BirthDate: mandates.Date(1982, time.January, 23), BirthPlace: mandates.Place{Code: "59350", Label: "Lille"}, BirthCountry: "99100",
		Gender: mandates.GenderMale, Email: "paul.durand@demo.example", Language: "fr",
		Address: mandates.Address{Street: "3 place du Théâtre", PostalCode: "59800", Locality: "Lille", Country: "France"}},
		"paul-demo-2026", "person under curatelle renforcée"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000004", GivenNames: "Sophie", FamilyName: "Bernard",
		BirthDate: mandates.Date(1990, time.June, 15), BirthPlace: mandates.Place{Code: "44109", Label: "Nantes"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "sophie.bernard@demo.example", Language: "fr",
		Address: mandates.Address{Street: "14 rue de Strasbourg", PostalCode: "44000", Locality: "Nantes", Country: "France"}},
		"sophie-demo-2026", "aidant at a France Services desk"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000005", GivenNames: "Ahmed", FamilyName: "Benali",
		BirthDate: mandates.Date(1958, time.November, 2), BirthPlace: mandates.Place{Label: "Oran"}, BirthCountry: "99352",
		Gender: mandates.GenderMale, Email: "ahmed.benali@demo.example", Language: "fr",
		Address: mandates.Address{Street: "40 boulevard de la Liberté", PostalCode: "59000", Locality: "Lille", Country: "France"}},
		"ahmed-demo-2026", "adult who gives a proxy"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000006", GivenNames: "Lucie", FamilyName: "Moreau",
		BirthDate: mandates.Date(1986, time.February, 28), BirthPlace: mandates.Place{Code: "33063", Label: "Bordeaux"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "lucie.moreau@demo.example", Language: "en",
		Address: mandates.Address{Street: "7 cours de l’Intendance", PostalCode: "33000", Locality: "Bordeaux", Country: "France"}},
		"lucie-demo-2026", "professional mandataire (MJPM), reads English"},
}

// The demo client's secret is fixed so that it can be printed at every
// start; it is for a local demo only and says so.
const demoClientSecret = "demo-secret-for-local-trials-only"

var demoClient = authz.Client{
	ID:                     "demo-site",
	Name:                   "Site de démonstration",
	RedirectURIs:           []string{"http://localhost:8081/callback", "http://127.0.0.1:8081/callback"},
	PostLogoutRedirectURIs: []string{"http://localhost:8081/", "http://127.0.0.1:8081/"},
	// FranceConnect's scopes, so a site written for it can be tried as is.
	Scopes: []string{"openid", "profile", "email", "phone", "address", "identite_pivot", "given_name", "family_name",
		"preferred_username", "birthdate", "gender", "birthplace", "birthcountry", "offline_access"},
	GrantTypes:       []string{"authorization_code", "refresh_token", "client_credentials"},
	SectorIdentifier: "localhost",
}

// loadDemo writes what is missing of the demo data, in one transaction,
// and prints the accounts. It never overwrites: a person who changed a
// demo account keeps the change.
func loadDemo(ctx context.Context, st store, out io.Writer, now func() time.Time) error {
	added := 0
	err := st.InTx(ctx, func(ctx context.Context) error {
		added = 0
		for _, d := range demoPersons {
			_, err := st.Person(ctx, d.person.ID)
			if err == nil {
				continue
			}
			if !errors.Is(err, mandates.ErrNotFound) {
				return err
			}
			p := d.person
			p.PasswordHash = authz.HashPassword(d.password)
			if err := st.CreatePerson(ctx, p); err != nil {
				return err
			}
			added++
		}
		_, err := st.Client(ctx, demoClient.ID)
		if errors.Is(err, mandates.ErrNotFound) {
			c := demoClient
			c.SecretHash = authz.HashClientSecret(demoClientSecret)
			if err := st.CreateClient(ctx, c); err != nil {
				return err
			}
			added++
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo data: %d records added, %d already there.\n", added, len(demoPersons)+1-added)
	fmt.Fprintln(out, "Demo accounts (invented people; never use these passwords elsewhere):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  EMAIL\tPASSWORD\tNAME\tROLE")
	for _, d := range demoPersons {
		name := d.person.GivenNames + " " + d.person.FamilyName
		if d.person.PreferredName != "" {
			name += " (" + d.person.PreferredName + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.person.Email, d.password, name, d.role)
	}
	tw.Flush()
	fmt.Fprintf(out, "Demo client: client_id=%s client_secret=%s redirect_uri=%s\n", demoClient.ID, demoClientSecret, demoClient.RedirectURIs[0])
	return nil
}
