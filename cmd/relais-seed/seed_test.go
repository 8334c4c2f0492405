package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	testIssuer = "http://relais.test"
	// The seed client's secret in these tests: registered before the
	// seed, which keeps the client it finds.
	testClientSecret = "seed-client-secret-for-tests"
)

// testStore is what the tests read besides what seeding writes.
type testStore interface {
	store
	oauth.TokenStore
	oauth.ProofStore
	mandates.FirstActStore
	keyring.KeyStore
	keyring.JournalKeyStore
	mandates.ExpiredStore
}

func newPostgres(t *testing.T) testStore {
	t.Helper()
	st, err := postgres.Open(t.Context(), pgtest.NewDatabase(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mig, err := st.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	defer mig.Close()
	if _, err := mig.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

var stores = []struct {
	name string
	open func(t *testing.T) testStore
}{
	{"sqlite", func(t *testing.T) testStore { return sqlitetest.Migrated(t) }},
	{"postgres", newPostgres},
}

func smallConfig(now time.Time) config {
	return config{Issuer: testIssuer, SecretKey: bytes.Repeat([]byte{7}, 32), Persons: 2000, Representations: 400,
		Tokens: 10000, Journal: 10000, Batch: 3000, Now: now}
}

func TestASmallSeedIsValidAndASecondRunAppends(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			st := s.open(t)
			sum := sha256.Sum256([]byte(testClientSecret))
			if err := st.CreateClient(ctx, oauth.Client{ID: SeedClientID, Name: "Relais seed", RedirectURIs: []string{"https://seed.example/callback"},
				Scopes: []string{"openid", "offline_access"}, GrantTypes: []string{"authorization_code", "refresh_token"},
				SectorIdentifier: "seed.example", SecretHash: hex.EncodeToString(sum[:]), ProcedureAreas: []string{"social"}}); err != nil {
				t.Fatal(err)
			}
			c := smallConfig(time.Now().UTC())
			first, err := seed(ctx, st, c, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if first.Persons != c.Persons || first.Representations != c.Representations || first.Tokens != c.Tokens || first.Journal != c.Journal {
				t.Errorf("seed added %d persons, %d representations, %d tokens, %d entries; want %d, %d, %d, %d",
					first.Persons, first.Representations, first.Tokens, first.Journal, c.Persons, c.Representations, c.Tokens, c.Journal)
			}
			checkJournal(t, st, 1, c.Journal)
			checkRepresentation(t, st, first)
			checkIntrospection(t, st, c, first)

			// A second run adds its own persons, measures, chains and
			// tokens beside the first's, whose chains stay as they were.
			c2 := c
			c2.Now = c.Now.Add(time.Second)
			second, err := seed(ctx, st, c2, io.Discard)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if second.Run == first.Run || second.PersonIDs[0] == first.PersonIDs[0] {
				t.Errorf("the second run reused the first's run id or persons")
			}
			checkJournal(t, st, 2, 2*c.Journal)
			checkRepresentation(t, st, second)
			checkIntrospection(t, st, c2, second)
			checkIntrospection(t, st, c, first)

			// Every token record is there: all of them expire within a
			// year and thirty days of now.
			n := 0
			for _, kind := range []mandates.ExpiredKind{mandates.ExpiredAccessTokens, mandates.ExpiredRefreshTokens} {
				d, err := st.DeleteExpired(ctx, kind, c2.Now.Add(400*24*time.Hour), 4*c.Tokens)
				if err != nil {
					t.Fatalf("delete %s: %v", kind, err)
				}
				n += d
			}
			if n != 2*c.Tokens {
				t.Errorf("token records = %d; want %d", n, 2*c.Tokens)
			}
		})
	}
}

// checkJournal verifies the whole journal as relais journal verify does
// (journal.Verify, with the deployment's journal keys) and counts it.
func checkJournal(t *testing.T, st testStore, runs, entries int) {
	t.Helper()
	box, err := keyring.NewSecretBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	v, err := keyring.NewJournalKeys(st, box, time.Now).Verifier(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := journal.Verify(t.Context(), st, v, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failure != nil {
		t.Fatalf("the seeded journal does not verify: %v", rep.Failure)
	}
	if rep.Entries != int64(entries) || rep.Chains != int64(runs*2000) {
		t.Errorf("journal: %d entries in %d chains; want %d in %d", rep.Entries, rep.Chains, entries, runs*2000)
	}
}

// checkRepresentation asks the domain whether a seeded tutor may consult
// for the person under tutelle, and finds the measure.
func checkRepresentation(t *testing.T, st store, r result) {
	t.Helper()
	ctx := t.Context()
	person := r.Represented[len(r.Represented)-1]
	reps, err := st.RepresentationsOf(ctx, person)
	if err != nil || len(reps) != 1 || reps[0].Kind != mandates.Tutelle {
		t.Fatalf("representations of %s = %+v, %v; want one tutelle", person, reps, err)
	}
	svc := mandates.NewService(st, journal.New(st, journal.Options{}), mandates.ServiceConfig{})
	ans, err := svc.Decide(ctx, mandates.Question{ActorID: reps[0].Representative.PersonID, PersonID: person, Action: "consult", Area: "social"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Decision != mandates.Allowed || ans.Representation == nil || ans.Representation.ID != reps[0].ID {
		t.Errorf("the tutor consulting for the person: %+v; want allowed under %s", ans, reps[0].ID)
	}
	stranger := r.PersonIDs[len(r.PersonIDs)-1]
	if ans, err := svc.Decide(ctx, mandates.Question{ActorID: stranger, PersonID: person, Action: "consult", Area: "social"}); err != nil || ans.Decision == mandates.Allowed {
		t.Errorf("a person with no measure consulting for %s: %+v, %v; want not allowed", person, ans, err)
	}
}

// checkIntrospection asks the provider's introspection endpoint about the
// run's active refresh token, and about one that no store holds.
func checkIntrospection(t *testing.T, st testStore, c config, r result) {
	t.Helper()
	ctx := t.Context()
	box, err := keyring.NewSecretBox(c.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring.NewKeys(st, box, time.Now, time.Minute, time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := authz.NewProvider(authz.ProviderConfig{Issuer: testIssuer, SecretKey: c.SecretKey},
		authz.Stores{Clients: st, Tokens: st, Persons: st, Tx: st, Subjects: st, Events: journal.New(st, journal.Options{})}, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, e := range p.Endpoints() {
		mux.Handle(e.Path, e.Handler)
	}
	introspect := func(token string) map[string]any {
		form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, testIssuer+"/introspect", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(SeedClientID, testClientSecret)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK {
			t.Fatalf("introspection: %d %s (%v)", w.Code, w.Body, err)
		}
		return out
	}
	got := introspect(r.ActiveRefresh)
	if got["active"] != true || got["client_id"] != SeedClientID {
		t.Errorf("the seeded refresh token introspects as %v; want active, for %s", got, SeedClientID)
	}
	minter, err := authz.NewTokenMinter(c.SecretKey, testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	client, err := st.Client(ctx, SeedClientID)
	if err != nil {
		t.Fatal(err)
	}
	if got["sub"] != minter.Subject(client, r.ActivePersonID) {
		t.Errorf("the seeded refresh token's sub = %v; want the pairwise sub of %s", got["sub"], r.ActivePersonID)
	}
	unstored, _, err := minter.Mint(ctx, authz.MintedGrant{Client: client, PersonID: r.ActivePersonID, IssuedAt: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if got := introspect(unstored); got["active"] != false {
		t.Errorf("a refresh token never stored introspects as %v; want inactive", got)
	}
}

func TestBadSettingsExitTwoWithOneSentence(t *testing.T) {
	key := "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"no secret key", []string{"--db", "sqlite:x.db"}, nil},
		{"an odd number of tokens", []string{"--tokens", "3"}, map[string]string{"RELAIS_SECRET_KEY": key}},
		{"more measures than pairs of persons", []string{"--persons", "10", "--representations", "5"}, map[string]string{"RELAIS_SECRET_KEY": key}},
		{"an unknown store", []string{"--db", "mysql://x"}, map[string]string{"RELAIS_SECRET_KEY": key}},
		{"an unknown flag", []string{"--people", "3"}, map[string]string{"RELAIS_SECRET_KEY": key}},
		{"a store not migrated", []string{"--db", "sqlite:" + t.TempDir() + "/new.db"}, map[string]string{"RELAIS_SECRET_KEY": key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr, func(k string) string { return tt.env[k] })
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if code != 2 || !strings.HasPrefix(last, "relais-seed: ") || !strings.HasSuffix(last, ".") {
				t.Errorf("exit %d, stderr %q; want 2 and one sentence", code, stderr.String())
			}
		})
	}
}

func TestATooSmallJournalIsRefused(t *testing.T) {
	st := sqlitetest.Migrated(t)
	c := smallConfig(time.Now().UTC())
	c.Persons, c.Representations, c.Tokens, c.Journal = 21, 10, 0, 5
	_, err := seed(t.Context(), st, c, io.Discard)
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Errorf("seed with --journal below the measures' entries: %v; want a usage error", err)
	}
}
