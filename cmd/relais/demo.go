package main

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
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
		"paul-demo-2026", "person under curatelle renforcée (followed by an MJPM service)"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000004", GivenNames: "Sophie", FamilyName: "Bernard",
		BirthDate: mandates.Date(1990, time.June, 15), BirthPlace: mandates.Place{Code: "44109", Label: "Nantes"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "sophie.bernard@demo.example", Language: "fr",
		Address: mandates.Address{Street: "14 rue de Strasbourg", PostalCode: "44000", Locality: "Nantes", Country: "France"}},
		"sophie-demo-2026", "aidant at a France Services desk (second factor: see below)"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000005", GivenNames: "Ahmed", FamilyName: "Benali",
		BirthDate: mandates.Date(1958, time.November, 2), BirthPlace: mandates.Place{Label: "Oran"}, BirthCountry: "99352",
		Gender: mandates.GenderMale, Email: "ahmed.benali@demo.example", Language: "fr",
		Address: mandates.Address{Street: "40 boulevard de la Liberté", PostalCode: "59000", Locality: "Lille", Country: "France"}},
		"ahmed-demo-2026", "son of Fatima; holds her proxy"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000006", GivenNames: "Lucie", FamilyName: "Moreau",
		BirthDate: mandates.Date(1986, time.February, 28), BirthPlace: mandates.Place{Code: "33063", Label: "Bordeaux"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "lucie.moreau@demo.example", Language: "en",
		Address: mandates.Address{Street: "7 cours de l’Intendance", PostalCode: "33000", Locality: "Bordeaux", Country: "France"}},
		"lucie-demo-2026", "MJPM delegate named for Paul, head of her service; reads English (second factor: see below)"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000007", GivenNames: "Yvette", FamilyName: "Garnier",
		BirthDate: mandates.Date(1949, time.October, 9), BirthPlace: mandates.Place{Code: "44109", Label: "Nantes"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "yvette.garnier@demo.example", Phone: "06 00 00 00 07", Language: "fr",
		Address: mandates.Address{Street: "2 rue du Bois Hardy", PostalCode: "44100", Locality: "Nantes", Country: "France"}},
		"yvette-demo-2026", "helped by Sophie's France Services desk (12-month mandate)"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000008", GivenNames: "Fatima", FamilyName: "Benali",
		BirthDate: mandates.Date(1936, time.May, 20), BirthPlace: mandates.Place{Label: "Tlemcen"}, BirthCountry: "99352",
		Gender: mandates.GenderFemale, Email: "fatima.benali@demo.example", Phone: "06 00 00 00 08", Language: "fr",
		Address: mandates.Address{Street: "40 boulevard de la Liberté", PostalCode: "59000", Locality: "Lille", Country: "France"}},
		"fatima-demo-2026", "capable adult who gave her son Ahmed a proxy"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-000000000009", GivenNames: "Olivier", FamilyName: "Roux",
		BirthDate: mandates.Date(1979, time.December, 1), BirthPlace: mandates.Place{Code: "75056", Label: "Paris"}, BirthCountry: "99100",
		Gender: mandates.GenderMale, Email: "olivier.roux@demo.example", Language: "fr"},
		"olivier-demo-2026", "operator: registers court measures and organisations"},
	{mandates.Person{ID: "0193a000-0000-7000-8000-00000000000a", GivenNames: "Nadia", FamilyName: "Haddad",
		BirthDate: mandates.Date(1984, time.July, 7), BirthPlace: mandates.Place{Code: "44109", Label: "Nantes"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "nadia.haddad@demo.example", Language: "fr"},
		"nadia-demo-2026", "administrator of the France Services desk"},
}

// The demo client's secret is fixed so that it can be printed at every
// start; it is for a local demo only and says so.
const demoClientSecret = "demo-secret-for-local-trials-only"

// demoClient's name is the one the demo site gives itself: one site, one
// name on every page (issue 17).
var demoClient = oauth.Client{
	ID:                     "demo-site",
	Name:                   "Caisse de démonstration",
	RedirectURIs:           []string{"http://localhost:8081/callback", "http://127.0.0.1:8081/callback"},
	PostLogoutRedirectURIs: []string{"http://localhost:8081/", "http://127.0.0.1:8081/"},
	// FranceConnect's scopes, so a site written for it can be tried as is.
	Scopes: []string{"openid", "profile", "email", "phone", "address", "identite_pivot", "given_name", "family_name",
		"preferred_username", "birthdate", "gender", "birthplace", "birthcountry", "offline_access",
		// Relais's own: what measure limits a person acting for themselves.
		"protection"},
	GrantTypes:       []string{"authorization_code", "refresh_token", "client_credentials"},
	SectorIdentifier: "localhost",
	// A site for benefits, papers and money, so each demo case has
	// someone to act for there.
	ProcedureAreas: []string{"social", "papiers", "argent", "logement"},
}

// The demo's ids, fixed so a second start finds what the first wrote.
const (
	demoJeanne   = "0193a000-0000-7000-8000-000000000001"
	demoMarie    = "0193a000-0000-7000-8000-000000000002"
	demoPaul     = "0193a000-0000-7000-8000-000000000003"
	demoSophie   = "0193a000-0000-7000-8000-000000000004"
	demoAhmed    = "0193a000-0000-7000-8000-000000000005"
	demoLucie    = "0193a000-0000-7000-8000-000000000006"
	demoYvette   = "0193a000-0000-7000-8000-000000000007"
	demoFatima   = "0193a000-0000-7000-8000-000000000008"
	demoOperator = "0193a000-0000-7000-8000-000000000009"
	demoNadia    = "0193a000-0000-7000-8000-00000000000a"

	demoFranceServices = "0193a000-0000-7000-8000-0000000000f1"
	demoMJPMService    = "0193a000-0000-7000-8000-0000000000f2"
)

// demoTOTPSecret is the demo aidant's second-factor key (base32, 20
// bytes), printed at start so the aidant workspace can be tried with any
// authenticator app or oathtool. A demo only: never a real account's.
const demoTOTPSecret = "RELAISDEMOSOPHIEAIDANTTOTPSECRET"

// demoLucieTOTPSecret is the MJPM delegate's: a representation held
// through an organisation is used only with a second factor.
const demoLucieTOTPSecret = "RELAISDEMOLUCIEMJPMDELEGATETOTPS"

var demoOrganisations = []struct {
	org   mandates.Organisation
	admin string
}{
	{mandates.Organisation{ID: demoFranceServices, Name: "France Services Nantes Bellevue", Kind: mandates.OrgFranceServices,
		CreatedBy: demoOperator, Address: mandates.Address{Street: "Maison de quartier Bellevue\n25 rue du Jamet", PostalCode: "44100",
			Locality: "Nantes", Country: "France"}}, demoNadia},
	{mandates.Organisation{ID: demoMJPMService, Name: "Service mandataire Entraide Nord", Kind: mandates.OrgMJPMService,
		CreatedBy: demoOperator, Address: mandates.Address{Street: "BP 40123\n18 rue Nationale", PostalCode: "59000",
			Locality: "Lille", Country: "France"}}, demoLucie},
}

// demoRepresentations are one realistic case per way a representation
// comes to exist, built for the day the demo is first loaded.
func demoRepresentations(now time.Time) []mandates.Representation {
	day := mandates.Date(now.Date())
	decision := func(jurisdiction, ref string, date time.Time) mandates.Source {
		return mandates.Source{Decision: &mandates.CourtDecision{Jurisdiction: jurisdiction, Date: date, Reference: ref,
			RegisteredBy: demoOperator, RegisteredAt: now}}
	}
	return []mandates.Representation{
		// Jeanne is under tutelle; her daughter Marie is her family tutor.
		{ID: "0193a000-0000-7000-8000-0000000001a1", Kind: mandates.Tutelle, PersonID: demoJeanne,
			Representative: mandates.Representative{PersonID: demoMarie}, Role: mandates.RoleTuteur,
			ValidFrom: day.AddDate(0, -6, 0), ValidUntil: day.AddDate(4, 6, 0), Status: mandates.StatusActive,
			Source: decision("Tribunal judiciaire de Lyon", "RG 25/04127", day.AddDate(0, -6, -12))},
		// Paul is under curatelle renforcée, followed by an MJPM service
		// that names Lucie as his delegate.
		{ID: "0193a000-0000-7000-8000-0000000001a2", Kind: mandates.CuratelleRenforcee, PersonID: demoPaul,
			Representative: mandates.Representative{OrganisationID: demoMJPMService, Delegates: []string{demoLucie}},
			Role:           mandates.RoleCurateur, ValidFrom: day.AddDate(-1, 0, 0), ValidUntil: day.AddDate(4, 0, 0), Status: mandates.StatusActive,
			Source: decision("Tribunal judiciaire de Lille", "RG 25/00918", day.AddDate(-1, 0, -20))},
		// Yvette is helped by the France Services desk for 12 months, for
		// benefits and papers, by an in-person consent Sophie witnessed.
		{ID: "0193a000-0000-7000-8000-0000000001a3", Kind: mandates.AidantMandate, PersonID: demoYvette,
			Representative: mandates.Representative{OrganisationID: demoFranceServices}, Role: mandates.RoleAidant,
			Areas: []mandates.Area{"papiers", "social"}, ValidFrom: now, ValidUntil: mandates.TwelveMonth.End(now), Status: mandates.StatusActive,
			Source: mandates.Source{Consent: &mandates.ConsentRecord{Method: mandates.ConsentInPersonAttestation, GivenAt: now, WitnessID: demoSophie}}},
		// Fatima, a capable adult, gave her son Ahmed a proxy, which he
		// accepted.
		{ID: "0193a000-0000-7000-8000-0000000001a4", Kind: mandates.Proxy, PersonID: demoFatima,
			Representative: mandates.Representative{PersonID: demoAhmed}, Role: mandates.RoleProxyHolder,
			Areas: []mandates.Area{"social", "logement", "argent"}, Granted: []mandates.Action{mandates.Consult, mandates.Manage},
			ValidFrom: now, ValidUntil: mandates.SixMonths.End(now), Status: mandates.StatusActive,
			Source: mandates.Source{Consent: &mandates.ConsentRecord{Method: mandates.ConsentOwnAccount, GivenAt: now, AcceptedAt: now}}},
	}
}

// demoCases says how to try each case, printed at start.
var demoCases = []string{
	"Tutelle: Jeanne Lefèvre is under tutelle; her daughter Marie Martin is her family tutor. Log in as Marie, open “Mon espace” > “Pour qui j’agis”; log in as Jeanne > “Qui peut agir pour moi ?”.",
	"Curatelle renforcée: Paul Durand is followed by the MJPM service Entraide Nord, which names Lucie Moreau as his delegate. Log in as Lucie (English) with her second factor > “For whom I act”, or > her service's page.",
	"Aidant mandate: Yvette Garnier is helped by France Services Nantes Bellevue for 12 months (social, papiers). Log in as Sophie with her second factor > “Espace aidant”; as Yvette to stop the mandate; as Nadia to manage the desk's aidants.",
	"Proxy: Fatima Benali gave her son Ahmed Benali a proxy (social, logement, argent; see and do everyday procedures). Log in as Fatima to stop it, as Ahmed to see it.",
	"Operator: Olivier Roux registers court measures and organisations at /operateur.",
}

// loadDemo writes what is missing of the demo data, in one transaction,
// and prints the accounts and the cases. It never overwrites: a person
// who changed a demo record keeps the change.
func loadDemo(ctx context.Context, st store, box *keyring.SecretBox, policy *mandates.Policy, out io.Writer, now func() time.Time) error {
	added, total := 0, 0
	load := func(ctx context.Context) error {
		added, total = 0, 0
		// missing counts a record and says whether it must be written.
		missing := func(err error) (bool, error) {
			total++
			if err == nil {
				return false, nil
			}
			if !errors.Is(err, mandates.ErrNotFound) {
				return false, err
			}
			added++
			return true, nil
		}
		for _, d := range demoPersons {
			_, err := st.Person(ctx, d.person.ID)
			if write, err := missing(err); err != nil || !write {
				if err != nil {
					return err
				}
				continue
			}
			p := d.person
			p.PasswordHash = authn.HashPassword(d.password)
			if err := st.CreatePerson(ctx, p); err != nil {
				return err
			}
		}
		_, err := st.Client(ctx, demoClient.ID)
		if write, err := missing(err); err != nil {
			return err
		} else if write {
			c := demoClient
			c.SecretHash = oauth.HashClientSecret(demoClientSecret)
			if err := st.CreateClient(ctx, c); err != nil {
				return err
			}
		}
		if err := st.GrantRole(ctx, demoOperator, mandates.RoleOperator); err != nil {
			return err
		}
		t := now().UTC().Truncate(time.Millisecond)
		for _, o := range demoOrganisations {
			_, err := st.Organisation(ctx, o.org.ID)
			if write, err := missing(err); err != nil {
				return err
			} else if write {
				if err := st.CreateOrganisation(ctx, o.org); err != nil {
					return err
				}
				if err := st.SaveMembership(ctx, mandates.Membership{OrganisationID: o.org.ID, PersonID: o.admin, Role: mandates.MemberAdmin,
					Active: true, HabilitatedBy: demoOperator, HabilitatedAt: t}); err != nil {
					return err
				}
			}
		}
		_, err = st.Membership(ctx, demoFranceServices, demoSophie)
		if write, err := missing(err); err != nil {
			return err
		} else if write {
			if err := st.SaveMembership(ctx, mandates.Membership{OrganisationID: demoFranceServices, PersonID: demoSophie, Role: mandates.MemberAidant,
				Active: true, HabilitatedBy: demoNadia, HabilitatedAt: t}); err != nil {
				return err
			}
		}
		all := demoRepresentations(t)
		for _, r := range all {
			// Written directly, so checked against the rule of who gives
			// a mandate or a proxy as the service would, under the policy
			// this Relais runs with.
			if err := policy.CheckGiven(&r, all, t); err != nil {
				return fmt.Errorf("demo representation %s: %w", r.Kind, err)
			}
			_, err := st.Representation(ctx, r.ID)
			if write, err := missing(err); err != nil {
				return err
			} else if write {
				first := mandates.Change{Seq: 1, At: t, ActorID: demoOperator, Type: mandates.EventCreated, To: r.Status,
					Detail: map[string]string{"source": "demo"}}
				if err := st.CreateRepresentation(ctx, r, first); err != nil {
					return fmt.Errorf("demo representation %s: %w", r.Kind, err)
				}
			}
		}
		return demoSecondFactor(ctx, st, box, t)
	}
	if err := inTxReadAgain(ctx, st, load); err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo data: %d records added, %d already there.\n", added, total-added)
	fmt.Fprintln(out, "Demo accounts (invented people; never use these passwords elsewhere):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  EMAIL\tPASSWORD\tNAME\tROLE")
	for _, d := range demoPersons {
		// The name every page, token and letter gives the person.
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.person.Email, d.password, mandates.DisplayName(d.person), d.role)
	}
	tw.Flush()
	fmt.Fprintln(out, "Demo cases:")
	for _, c := range demoCases {
		fmt.Fprintln(out, "  - "+c)
	}
	fmt.Fprintf(out, "Sophie's second factor (aidants must use one): add the key %s to an authenticator app, or run: oathtool --totp -b %s\n",
		demoTOTPSecret, demoTOTPSecret)
	fmt.Fprintf(out, "Lucie's second factor (professionals acting for an organisation must use one): the key %s, or run: oathtool --totp -b %s\n",
		demoLucieTOTPSecret, demoLucieTOTPSecret)
	fmt.Fprintf(out, "Demo client: client_id=%s client_secret=%s redirect_uri=%s\n", demoClient.ID, demoClientSecret, demoClient.RedirectURIs[0])
	return nil
}

// inTxReadAgain runs load in a transaction, and again when it found an id
// or a unique value taken: instances started together on one PostgreSQL
// database load the demo at the same time, and the one that commits
// second, reading again, finds what the other wrote.
func inTxReadAgain(ctx context.Context, st store, load func(context.Context) error) error {
	err := st.InTx(ctx, load)
	for retry := 0; errors.Is(err, mandates.ErrAlreadyExists) && retry < 2; retry++ {
		err = st.InTx(ctx, load)
	}
	return err
}

// demoSecondFactor turns the second factor of the demo aidant and of the
// MJPM delegate on with the printed keys, unless they already have one.
func demoSecondFactor(ctx context.Context, st store, box *keyring.SecretBox, now time.Time) error {
	for person, key := range map[string]string{demoSophie: demoTOTPSecret, demoLucie: demoLucieTOTPSecret} {
		_, err := st.TOTP(ctx, person)
		if !errors.Is(err, mandates.ErrNotFound) {
			if err != nil {
				return err
			}
			continue
		}
		secret, err := base32.StdEncoding.DecodeString(key)
		if err != nil {
			return err
		}
		sealed := box.Seal(person, secret)
		if err := st.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: person, Secret: sealed, CreatedAt: now}); err != nil {
			return err
		}
		if err := st.ConfirmTOTP(ctx, person, sealed, 1, now, nil); err != nil {
			return err
		}
	}
	return nil
}
