package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// Store is everything a Relais store implements.
type Store interface {
	mandates.PersonStore
	mandates.PivotStore
	mandates.Transactor
	mandates.ExpiredStore
	oauth.ClientStore
	authn.SessionStore
	authn.AccountCodeStore
	authn.UpstreamLoginStore
	authn.UpstreamLinkStore
	mandates.OrganisationStore
	mandates.SIRETStore
	authn.LoginNameStore
	mandates.PersonLister
	Ping(ctx context.Context) error
	// DeletePersonSessions ends a person's sessions but one (accounts).
	DeletePersonSessions(ctx context.Context, personID, keep string) (int64, error)
}

// Run runs the whole suite. newStore must return a fresh, empty, migrated
// store for each call and close it at t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"a person is created and read back as written", testPersonRoundTrip},
		{"an unknown person is not found", testPersonNotFound},
		{"a taken id or email is refused, whatever the case of the email", testPersonUnique},
		{"persons without email may be many", testPersonsWithoutEmail},
		{"a person is found by email in any case", testPersonByEmail},
		{"an invalid person is refused", testPersonInvalid},
		{"an update saves the change and counts a version", testPersonUpdate},
		{"a failed update changes nothing", testPersonUpdateFails},
		{"concurrent updates of one person lose nothing", testPersonConcurrentUpdates},
		{"concurrent creates with one email: exactly one wins", testPersonConcurrentSameEmail},
		{"concurrent creates of different persons all succeed", testPersonConcurrentCreates},
		{"a transaction commits every step together", testTxCommit},
		{"a transaction whose step fails leaves nothing behind", testTxRollbackOnError},
		{"a transaction whose step fails on a unique value leaves nothing behind", testTxRollbackOnUnique},
		{"a transaction that panics leaves nothing behind", testTxRollbackOnPanic},
		{"a client is created, listed, updated and deleted", testClientLifecycle},
		{"an unknown client is not found", testClientNotFound},
		{"a taken client id is refused", testClientUnique},
		{"an invalid client is refused on create and on update", testClientInvalid},
		{"a client's ID token and userinfo encryption settings are kept on create and update", testClientEncryption},
		{"a browser session lives until it expires", testSessionLifecycle},
		{"a session renewed with its second factor replaces the old one, once", testSessionRenew},
		{"a store that is up answers ping", testPing},
		{"persons are found by their identité pivot, homonyms too", testPersonsByPivot},
		{"a session keeps how an upstream provider logged the person in", testSessionUpstream},
		{"an account code is found by its hash, voided by the next, used once", testAccountCodes},
		{"an upstream login is taken once, whoever returns first; expired ones are swept", testUpstreamLogins},
		{"an upstream account links one person, one link per provider, removable", testUpstreamLinks},
		{"an organisation is found by its SIRET, one organisation per SIRET", testOrganisationSIRET},
		{"a new password ends the person's other sessions, and nobody else's", testDeletePersonSessions},
		{"a login name is unique, found, replaced; a taken one leaves the transaction usable", testLoginNames},
		{"persons are listed by folded name, by pages", testListPersons},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

func newPerson(email string) mandates.Person {
	return mandates.Person{
		ID:            mandates.NewID(time.Now()),
		GivenNames:    "Jeanne Marie",
		FamilyName:    "Lefèvre",
		PreferredName: "Martin",
		BirthDate:     mandates.Date(1948, time.March, 12),
		BirthPlace:    mandates.Place{Code: "69123", Label: "Lyon"},
		BirthCountry:  "99100",
		Gender:        mandates.GenderFemale,
		Email:         email,
		Phone:         "+33 6 12 34 56 78",
		Address:       mandates.Address{Street: "12 rue de la République", PostalCode: "69002", Locality: "Lyon", Country: "France"},
		Language:      "fr",
		PasswordHash:  "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5",
	}
}

func mustCreatePerson(t *testing.T, s Store, p mandates.Person) {
	t.Helper()
	if err := s.CreatePerson(t.Context(), p); err != nil {
		t.Fatalf("CreatePerson(%s): %v", p.ID, err)
	}
}

func samePerson(t *testing.T, got, want mandates.Person) {
	t.Helper()
	// Timestamps and version are the store's; compare what the caller wrote.
	got.CreatedAt, got.UpdatedAt, got.Version = time.Time{}, time.Time{}, 0
	want.CreatedAt, want.UpdatedAt, want.Version = time.Time{}, time.Time{}, 0
	if !got.BirthDate.Equal(want.BirthDate) {
		t.Errorf("birth date = %v, want %v", got.BirthDate, want.BirthDate)
	}
	got.BirthDate, want.BirthDate = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("person read back differs:\n got  %+v\n want %+v", got, want)
	}
}

func testPersonRoundTrip(t *testing.T, s Store) {
	before := time.Now().Add(-time.Second)
	p := newPerson("jeanne.lefevre@example.fr")
	mustCreatePerson(t, s, p)
	got, err := s.Person(t.Context(), p.ID)
	if err != nil {
		t.Fatalf("Person: %v", err)
	}
	samePerson(t, got, p)
	if got.BirthDate.Location() != time.UTC || got.BirthDate.Hour() != 0 {
		t.Errorf("birth date %v is not a date at midnight UTC", got.BirthDate)
	}
	if got.CreatedAt.Before(before) || got.UpdatedAt.Before(before) {
		t.Errorf("timestamps not set: created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
	if got.Version != 1 {
		t.Errorf("version = %d, want 1", got.Version)
	}
}

func testPersonNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	id := mandates.NewID(time.Now())
	if _, err := s.Person(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Person(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.PersonByEmail(ctx, "nobody@example.fr"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("PersonByEmail(unknown) error = %v, want ErrNotFound", err)
	}
	_, err := s.UpdatePerson(ctx, id, func(p *mandates.Person) error { p.Phone = "1"; return nil })
	if !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("UpdatePerson(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Person(ctx, "not-a-uuid"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Person(malformed id) error = %v, want ErrNotFound", err)
	}
}

func wantUnique(t *testing.T, err error, field string) {
	t.Helper()
	if !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Fatalf("error = %v, want ErrAlreadyExists", err)
	}
	var ue *mandates.UniqueError
	if !errors.As(err, &ue) || ue.Field != field {
		t.Errorf("error = %#v, want a UniqueError on %q", err, field)
	}
}

func testPersonUnique(t *testing.T, s Store) {
	p := newPerson("Paul.Durand@Example.fr")
	mustCreatePerson(t, s, p)

	other := newPerson("paul.durand@example.FR")
	wantUnique(t, s.CreatePerson(t.Context(), other), "email")

	sameID := newPerson("autre@example.fr")
	sameID.ID = p.ID
	wantUnique(t, s.CreatePerson(t.Context(), sameID), "id")

	if _, err := s.PersonByEmail(t.Context(), "autre@example.fr"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the refused person was stored anyway: %v", err)
	}
}

func testPersonsWithoutEmail(t *testing.T, s Store) {
	for range 3 {
		mustCreatePerson(t, s, newPerson(""))
	}
}

func testPersonByEmail(t *testing.T, s Store) {
	p := newPerson("Lucie.Bernard@Example.fr")
	mustCreatePerson(t, s, p)
	for _, email := range []string{"Lucie.Bernard@Example.fr", "lucie.bernard@example.fr", " LUCIE.BERNARD@EXAMPLE.FR "} {
		got, err := s.PersonByEmail(t.Context(), email)
		if err != nil {
			t.Fatalf("PersonByEmail(%q): %v", email, err)
		}
		if got.ID != p.ID || got.Email != p.Email {
			t.Errorf("PersonByEmail(%q) = %s %q, want %s %q", email, got.ID, got.Email, p.ID, p.Email)
		}
	}
}

func testPersonInvalid(t *testing.T, s Store) {
	for name, change := range map[string]func(*mandates.Person){
		"no family name":  func(p *mandates.Person) { p.FamilyName = " " },
		"no birth date":   func(p *mandates.Person) { p.BirthDate = time.Time{} },
		"malformed email": func(p *mandates.Person) { p.Email = "jeanne at example" },
		"malformed id":    func(p *mandates.Person) { p.ID = "42" },
		"bad INSEE code":  func(p *mandates.Person) { p.BirthPlace.Code = "Lyon" },
	} {
		p := newPerson("")
		change(&p)
		if err := s.CreatePerson(t.Context(), p); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: error = %v, want ErrInvalid", name, err)
		}
	}
}

func testPersonUpdate(t *testing.T, s Store) {
	p := newPerson("a@example.fr")
	mustCreatePerson(t, s, p)
	first, _ := s.Person(t.Context(), p.ID)

	got, err := s.UpdatePerson(t.Context(), p.ID, func(q *mandates.Person) error {
		q.Email = "B@example.fr"
		q.PreferredName = ""
		q.Language = "en"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdatePerson: %v", err)
	}
	read, err := s.Person(t.Context(), p.ID)
	if err != nil {
		t.Fatalf("Person: %v", err)
	}
	for _, q := range []mandates.Person{got, read} {
		if q.Email != "B@example.fr" || q.PreferredName != "" || q.Language != "en" {
			t.Errorf("update not saved: %+v", q)
		}
		if q.Version != first.Version+1 {
			t.Errorf("version = %d, want %d", q.Version, first.Version+1)
		}
		if q.UpdatedAt.Before(first.UpdatedAt) || !q.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("timestamps: created %v→%v updated %v→%v", first.CreatedAt, q.CreatedAt, first.UpdatedAt, q.UpdatedAt)
		}
	}
	if _, err := s.PersonByEmail(t.Context(), "a@example.fr"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("old email still finds the person: %v", err)
	}
	if _, err := s.PersonByEmail(t.Context(), "b@example.fr"); err != nil {
		t.Errorf("new email does not find the person: %v", err)
	}
}

func testPersonUpdateFails(t *testing.T, s Store) {
	ctx := t.Context()
	p := newPerson("c@example.fr")
	taken := newPerson("taken@example.fr")
	mustCreatePerson(t, s, p)
	mustCreatePerson(t, s, taken)
	before, _ := s.Person(ctx, p.ID)

	refused := errors.New("refused by fn")
	_, err := s.UpdatePerson(ctx, p.ID, func(q *mandates.Person) error {
		q.FamilyName = "Changed"
		return refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("error = %v, want fn's error", err)
	}
	_, err = s.UpdatePerson(ctx, p.ID, func(q *mandates.Person) error {
		q.FamilyName = "Changed"
		q.Email = "TAKEN@example.fr"
		return nil
	})
	wantUnique(t, err, "email")
	_, err = s.UpdatePerson(ctx, p.ID, func(q *mandates.Person) error {
		q.FamilyName = ""
		return nil
	})
	if !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("emptying a required field: error = %v, want ErrInvalid", err)
	}
	_, err = s.UpdatePerson(ctx, p.ID, func(q *mandates.Person) error {
		q.ID = mandates.NewID(time.Now())
		return nil
	})
	if !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("changing the id: error = %v, want ErrInvalid", err)
	}
	after, err := s.Person(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("failed updates changed the person:\n before %+v\n after  %+v", before, after)
	}
}

func testPersonConcurrentUpdates(t *testing.T, s Store) {
	p := newPerson("")
	p.PreferredName = ""
	mustCreatePerson(t, s, p)
	const writers, each = 8, 5
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdatePerson(t.Context(), p.ID, func(q *mandates.Person) error {
					q.PreferredName += "x"
					return nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent update: %v", err)
		}
	}
	got, err := s.Person(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.PreferredName) != writers*each || got.Version != 1+writers*each {
		t.Errorf("after %d updates: %d applied, version %d", writers*each, len(got.PreferredName), got.Version)
	}
}

func testPersonConcurrentSameEmail(t *testing.T, s Store) {
	const writers = 8
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() { errs <- s.CreatePerson(t.Context(), newPerson("same@example.fr")) })
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, mandates.ErrAlreadyExists):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates succeeded, want exactly 1", won)
	}
}

func testPersonConcurrentCreates(t *testing.T, s Store) {
	const writers = 24
	ids := make(chan string, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			p := newPerson(fmt.Sprintf("p%d@example.fr", i))
			if err := s.CreatePerson(t.Context(), p); err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			ids <- p.ID
		})
	}
	wg.Wait()
	close(ids)
	n := 0
	for id := range ids {
		if _, err := s.Person(t.Context(), id); err != nil {
			t.Errorf("read %s: %v", id, err)
		}
		n++
	}
	if n != writers {
		t.Errorf("%d of %d creates succeeded", n, writers)
	}
}

func newClient(id string) oauth.Client {
	_, hash := oauth.NewClientSecret()
	return oauth.Client{
		ID:                     id,
		Name:                   "Caisse d'allocations familiales",
		RedirectURIs:           []string{"https://caf.example.fr/callback", "http://localhost:3000/cb"},
		PostLogoutRedirectURIs: []string{"https://caf.example.fr/au-revoir"},
		Scopes:                 []string{"openid", "profile", "email"},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		SectorIdentifier:       "caf.example.fr",
		SecretHash:             hash,
		ProcedureAreas:         []string{"social", "famille"},
		ExchangeAudiences:      []string{"api-impots"},
	}
}

// clientJWKS is one public P-256 key, as a private_key_jwt client
// registers it (RFC 7591 §2 jwks).
const clientJWKS = `{"keys":[{"use":"sig","kty":"EC","kid":"caf-2026","crv":"P-256","alg":"ES256",` +
	`"x":"T95KPUhq3ko2LJyRTGwopJp5wlDjeCHX35WUeXAQi64","y":"B3yfYxpALECBTvi34TY7cIv3d4Aat91Rpx9Vz_c59_A"}]}`

// sameClient compares what the caller wrote, with its defaults written
// out, to what the store read back; timestamps and version are the store's.
func sameClient(t *testing.T, got, want oauth.Client) {
	t.Helper()
	want.Normalize()
	for _, l := range []struct {
		name      string
		got, want *[]string
	}{
		{"redirect URIs", &got.RedirectURIs, &want.RedirectURIs},
		{"post-logout redirect URIs", &got.PostLogoutRedirectURIs, &want.PostLogoutRedirectURIs},
		{"scopes", &got.Scopes, &want.Scopes},
		{"grant types", &got.GrantTypes, &want.GrantTypes},
		{"procedure areas", &got.ProcedureAreas, &want.ProcedureAreas},
		{"token exchange audiences", &got.ExchangeAudiences, &want.ExchangeAudiences},
	} {
		if *l.got == nil {
			t.Errorf("%s read back as nil, want a list", l.name)
		}
		if !slices.Equal(*l.got, *l.want) {
			t.Errorf("%s read back as %q, want %q", l.name, *l.got, *l.want)
		}
		*l.got, *l.want = nil, nil
	}
	got.CreatedAt, got.UpdatedAt, got.Version = time.Time{}, time.Time{}, 0
	want.CreatedAt, want.UpdatedAt, want.Version = time.Time{}, time.Time{}, 0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("client read back differs:\n got  %+v\n want %+v", got, want)
	}
}

func testTxCommit(t *testing.T, s Store) {
	p := newPerson("tx@example.fr")
	c := newClient("tx-client")
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := s.CreatePerson(ctx, p); err != nil {
			return err
		}
		// A read inside the transaction sees its own write.
		if _, err := s.Person(ctx, p.ID); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		if _, err := s.UpdatePerson(ctx, p.ID, func(q *mandates.Person) error { q.Phone = "0102030405"; return nil }); err != nil {
			return err
		}
		return s.CreateClient(ctx, c)
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	got, err := s.Person(t.Context(), p.ID)
	if err != nil || got.Phone != "0102030405" {
		t.Errorf("person after commit: %+v, %v", got, err)
	}
	if _, err := s.Client(t.Context(), c.ID); err != nil {
		t.Errorf("client after commit: %v", err)
	}
}

func assertNothingWritten(t *testing.T, s Store, personID, clientID string) {
	t.Helper()
	if _, err := s.Person(t.Context(), personID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("person written by a failed transaction: %v", err)
	}
	if _, err := s.Client(t.Context(), clientID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("client written by a failed transaction: %v", err)
	}
}

func testTxRollbackOnError(t *testing.T, s Store) {
	p := newPerson("rollback@example.fr")
	c := newClient("rollback-client")
	boom := errors.New("third step failed")
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := s.CreatePerson(ctx, p); err != nil {
			return err
		}
		if err := s.CreateClient(ctx, c); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("InTx error = %v, want the step's error", err)
	}
	assertNothingWritten(t, s, p.ID, c.ID)
	// The store still works after a rollback.
	mustCreatePerson(t, s, p)
}

func testTxRollbackOnUnique(t *testing.T, s Store) {
	existing := newPerson("exists@example.fr")
	mustCreatePerson(t, s, existing)
	p := newPerson("new@example.fr")
	c := newClient("unique-client")
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := s.CreatePerson(ctx, p); err != nil {
			return err
		}
		if err := s.CreateClient(ctx, c); err != nil {
			return err
		}
		return s.CreatePerson(ctx, newPerson("EXISTS@example.fr"))
	})
	wantUnique(t, err, "email")
	assertNothingWritten(t, s, p.ID, c.ID)
}

func testTxRollbackOnPanic(t *testing.T, s Store) {
	p := newPerson("panic@example.fr")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("InTx swallowed the panic")
			}
		}()
		_ = s.InTx(t.Context(), func(ctx context.Context) error {
			if err := s.CreatePerson(ctx, p); err != nil {
				return err
			}
			panic("step panicked")
		})
	}()
	assertNothingWritten(t, s, p.ID, "no-client")
	// The store is usable afterwards: the transaction's connection was released.
	mustCreatePerson(t, s, newPerson("after-panic@example.fr"))
}

func testClientLifecycle(t *testing.T, s Store) {
	ctx := t.Context()
	// b leaves every registration default empty: the store writes them out.
	b := newClient("b-site")
	b.Name = "Site B"
	// a is a public client that sets every other field away from its default.
	a := newClient("a-site")
	a.Name = "Site A"
	a.SecretHash = ""
	a.TokenEndpointAuthMethod = oauth.AuthMethodNone
	a.PostLogoutRedirectURIs = nil
	a.JWKSURI = "https://a.example.fr/.well-known/jwks.json"
	a.SubjectType = oauth.SubjectPublic
	a.IDTokenSignedResponseAlg = oauth.AlgRS256
	a.UserinfoSignedResponseAlg = oauth.AlgES256
	// c authenticates with a key it registered inline.
	c := newClient("c-site")
	c.SecretHash = ""
	c.TokenEndpointAuthMethod = oauth.AuthMethodPrivateKeyJWT
	c.JWKS = clientJWKS
	// c also sends only signed request objects (RFC 9101 §10.5).
	c.RequireSignedRequestObject = true
	for _, cl := range []oauth.Client{b, a, c} {
		if err := s.CreateClient(ctx, cl); err != nil {
			t.Fatalf("CreateClient(%s): %v", cl.ID, err)
		}
	}
	for _, want := range []oauth.Client{a, b, c} {
		got, err := s.Client(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameClient(t, got, want)
		if got.Version != 1 {
			t.Errorf("%s: version = %d, want 1", want.ID, got.Version)
		}
	}
	if got, _ := s.Client(ctx, b.ID); got.TokenEndpointAuthMethod != oauth.AuthMethodSecretBasic ||
		got.SubjectType != oauth.SubjectPairwise || got.IDTokenSignedResponseAlg != oauth.AlgES256 {
		t.Errorf("defaults not stored: %+v", got)
	}
	list, err := s.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != "a-site" || list[1].ID != "b-site" || list[2].ID != "c-site" {
		t.Errorf("Clients() = %v, want a-site, b-site, c-site", list)
	}
	if len(list) == 3 {
		sameClient(t, list[0], a)
	}

	upd, err := s.UpdateClient(ctx, b.ID, func(c *oauth.Client) error {
		c.RedirectURIs = append(c.RedirectURIs, "https://caf.example.fr/other")
		c.PostLogoutRedirectURIs = append(c.PostLogoutRedirectURIs, "http://localhost:3000/")
		c.Scopes = nil
		c.TokenEndpointAuthMethod = oauth.AuthMethodSecretPost
		c.SubjectType = oauth.SubjectPublic
		c.UserinfoSignedResponseAlg = oauth.AlgRS256
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Client(ctx, b.ID)
	if len(got.RedirectURIs) != 3 || len(got.PostLogoutRedirectURIs) != 2 || len(got.Scopes) != 0 || got.Version != 2 || upd.Version != 2 ||
		got.TokenEndpointAuthMethod != oauth.AuthMethodSecretPost || got.SubjectType != oauth.SubjectPublic || got.UserinfoSignedResponseAlg != oauth.AlgRS256 {
		t.Errorf("after update: %+v", got)
	}
	if _, err := s.UpdateClient(ctx, b.ID, func(c *oauth.Client) error { c.RedirectURIs = []string{"https://x.example/#frag"}; return nil }); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("update to a redirect URI with a fragment: %v, want ErrInvalid", err)
	}

	if _, err := s.UpdateClient(ctx, c.ID, func(c *oauth.Client) error { c.RequireSignedRequestObject = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, c.ID); got.RequireSignedRequestObject {
		t.Errorf("require_signed_request_object turned off reads back on")
	}

	if err := s.DeleteClient(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client(ctx, b.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("deleted client: %v, want ErrNotFound", err)
	}
	if err := s.DeleteClient(ctx, b.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
}

// testClientInvalid: the store refuses what oauth.Client.Validate refuses,
// on create and on update, and keeps nothing of it.
func testClientInvalid(t *testing.T, s Store) {
	ctx := t.Context()
	keyJWT := func(c *oauth.Client) { c.TokenEndpointAuthMethod, c.SecretHash = oauth.AuthMethodPrivateKeyJWT, "" }
	tests := []struct {
		name   string
		change func(*oauth.Client)
	}{
		{"private_key_jwt without keys", keyJWT},
		{"a key set holding a private key", func(c *oauth.Client) {
			keyJWT(c)
			c.JWKS = strings.Replace(clientJWKS, `"kty"`, `"d":"c2VjcmV0","kty"`, 1)
		}},
		{"a public client with a secret", func(c *oauth.Client) { c.TokenEndpointAuthMethod = oauth.AuthMethodNone }},
		{"a post-logout redirect URI over http", func(c *oauth.Client) { c.PostLogoutRedirectURIs = []string{"http://caf.example.fr/"} }},
		{"a key set URL over http", func(c *oauth.Client) { c.JWKSURI = "http://caf.example.fr/jwks.json" }},
		{"an unknown subject type", func(c *oauth.Client) { c.SubjectType = "anonymous" }},
		{"unsigned ID tokens", func(c *oauth.Client) { c.IDTokenSignedResponseAlg = "none" }},
		{"an unknown userinfo algorithm", func(c *oauth.Client) { c.UserinfoSignedResponseAlg = "HS256" }},
		{"signed request objects required without keys to sign them", func(c *oauth.Client) { c.RequireSignedRequestObject = true }},
	}
	existing := newClient("existing")
	if err := s.CreateClient(ctx, existing); err != nil {
		t.Fatal(err)
	}
	before, err := s.Client(ctx, existing.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		c := newClient(fmt.Sprintf("invalid-%d", i))
		tt.change(&c)
		if err := s.CreateClient(ctx, c); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("create with %s: %v, want ErrInvalid", tt.name, err)
		}
		if _, err := s.Client(ctx, c.ID); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("create with %s stored the client anyway: %v", tt.name, err)
		}
		if _, err := s.UpdateClient(ctx, existing.ID, func(c *oauth.Client) error { tt.change(c); return nil }); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("update to %s: %v, want ErrInvalid", tt.name, err)
		}
	}
	after, err := s.Client(ctx, existing.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("refused updates changed the client:\n before %+v\n after  %+v", before, after)
	}
}

func testClientNotFound(t *testing.T, s Store) {
	if _, err := s.Client(t.Context(), "nope"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Client(unknown) = %v", err)
	}
	if _, err := s.UpdateClient(t.Context(), "nope", func(*oauth.Client) error { return nil }); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("UpdateClient(unknown) = %v", err)
	}
	list, err := s.Clients(t.Context())
	if err != nil || len(list) != 0 {
		t.Errorf("Clients() on an empty store = %v, %v", list, err)
	}
}

func testClientUnique(t *testing.T, s Store) {
	if err := s.CreateClient(t.Context(), newClient("dup")); err != nil {
		t.Fatal(err)
	}
	wantUnique(t, s.CreateClient(t.Context(), newClient("dup")), "id")
}

func testSessionLifecycle(t *testing.T, s Store) {
	ctx := t.Context()
	p := newPerson("")
	mustCreatePerson(t, s, p)
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, id := authn.NewSessionToken()
	sess := authn.BrowserSession{ID: id, PersonID: p.ID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sess); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("session id reused: %v, want ErrAlreadyExists", err)
	}
	got, err := s.Session(ctx, id, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.PersonID != p.ID || !got.AuthTime.Equal(now) || !got.ExpiresAt.Equal(sess.ExpiresAt) || !slices.Equal(got.AMR, []string{"pwd"}) {
		t.Errorf("session read back as %+v, want %+v", got, sess)
	}
	if _, err := s.Session(ctx, id, now.Add(2*time.Hour)); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("expired session: %v, want ErrNotFound", err)
	}

	_, old := authn.NewSessionToken()
	if err := s.CreateSession(ctx, authn.BrowserSession{ID: old, PersonID: p.ID, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpired(ctx, mandates.ExpiredSessions, now, 100)
	if err != nil || n != 1 {
		t.Errorf("DeleteExpired(sessions) = %d, %v; want 1", n, err)
	}
	if _, err := s.Session(ctx, id, now); err != nil {
		t.Errorf("the live session after deleting the expired: %v", err)
	}
	if err := s.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, id, now); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("deleted session: %v, want ErrNotFound", err)
	}
	if err := s.CreateSession(ctx, authn.BrowserSession{ID: "x", PersonID: mandates.NewID(now), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a session for an unknown person: %v, want ErrInvalid", err)
	}
}

func testSessionRenew(t *testing.T, s Store) {
	ctx := t.Context()
	p := newPerson("")
	mustCreatePerson(t, s, p)
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, oldID := authn.NewSessionToken()
	old := authn.BrowserSession{ID: oldID, PersonID: p.ID, AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	_, newID := authn.NewSessionToken()
	raised := old
	raised.ID, raised.AMR = newID, []string{"pwd", "otp"}
	if err := s.RenewSession(ctx, oldID, raised); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, oldID, now); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the old session after renewal: %v, want ErrNotFound", err)
	}
	got, err := s.Session(ctx, newID, now)
	if err != nil || got.PersonID != p.ID || !got.AuthTime.Equal(now) || !got.ExpiresAt.Equal(old.ExpiresAt) || !slices.Equal(got.AMR, raised.AMR) {
		t.Errorf("the renewed session read back as %+v, %v; want %+v", got, err, raised)
	}
	// Renewing a session that is gone (signed out, or renewed by another
	// request) creates nothing.
	_, other := authn.NewSessionToken()
	again := raised
	again.ID = other
	if err := s.RenewSession(ctx, oldID, again); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("renewing a session that is gone: %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, other, now); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a failed renewal left a session behind: %v", err)
	}
}

func testPing(t *testing.T, s Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
