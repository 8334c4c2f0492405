package upstream_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authn/upstream"
	"github.com/relais-fr/relais/authn/upstream/upstreamtest"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

// jeanneClaims are the pivot claims of the store's Jeanne.
func jeanneClaims() map[string]any {
	return map[string]any{"given_name": "Jeanne Odette", "family_name": "LEFEVRE", "birthdate": "1941-03-12", "gender": "female",
		"birthplace": "69123", "birthcountry": "99100", "email": "jeanne@fc.example"}
}

// recorder keeps every event emitted.
type recorder struct {
	mu     sync.Mutex
	events []mandates.Event
}

func (r *recorder) Emit(_ context.Context, e mandates.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) of(t mandates.EventType) []mandates.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mandates.Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

type world struct {
	f      *upstreamtest.Provider
	st     *sqlite.Store
	ev     *recorder
	now    time.Time
	client *upstream.Client
	jeanne mandates.Person
}

func newWorld(t *testing.T, selfSignUp bool) *world {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	w := &world{f: upstreamtest.New(t, "relais"), st: st, ev: &recorder{}, now: time.Now()}
	w.jeanne = mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Jeanne Odette", FamilyName: "Lefèvre",
		BirthDate: mandates.Date(1941, time.March, 12), BirthPlace: mandates.Place{Code: "69123"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "jeanne@example.fr", PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5"}
	if err := st.CreatePerson(ctx, w.jeanne); err != nil {
		t.Fatal(err)
	}
	w.f.Set(func(s *upstreamtest.Settings) { s.Claims = jeanneClaims() })
	var err error
	w.client, err = upstream.New(upstream.Config{Name: authn.UpstreamFranceConnect, Issuer: w.f.URL, ClientID: "relais", ClientSecret: "s",
		Scopes: []string{"openid"}, ACRValues: "eidas1", RedirectURL: "http://relais.test/connexion/franceconnect/retour",
		LogoutReturnURL: "http://relais.test/connexion/franceconnect/deconnexion", SelfSignUp: selfSignUp,
		Now: func() time.Time { return w.now }},
		upstream.Stores{Logins: st, Links: st, Persons: st, Pivots: st, Tx: st, Events: w.ev})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// start begins a login and returns the provider's answer as the browser
// would bring it back (code, state, iss), and the browser's cookie.
func (w *world) start(t *testing.T) (url.Values, string) {
	t.Helper()
	to, binding, err := w.client.Start(t.Context(), "/espace")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("acr_values") != "eidas1" || q.Get("nonce") == "" {
		t.Fatalf("authorization request %s lacks PKCE S256, acr_values or nonce", to)
	}
	w.f.Set(func(s *upstreamtest.Settings) { s.Nonce = q.Get("nonce") })
	return url.Values{"code": {"the-code"}, "state": {q.Get("state")}, "iss": {w.f.URL}}, binding
}

func refusal(err error) string {
	var r *upstream.RefusedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// TestFinishRefusals: every way the return can be wrong is refused with
// its reason, and journaled in the deployment's chain (no person known).
func TestFinishRefusals(t *testing.T) {
	tests := []struct {
		name   string
		before func(w *world)
		answer func(q url.Values, binding string) (url.Values, string)
		want   string
	}{
		{"an unknown state", nil, func(q url.Values, b string) (url.Values, string) { q.Set("state", "made-up"); return q, b }, upstream.ReasonState},
		{"no state", nil, func(q url.Values, b string) (url.Values, string) { q.Del("state"); return q, b }, upstream.ReasonState},
		{"another browser's return (no cookie)", nil, func(q url.Values, b string) (url.Values, string) { return q, "" }, upstream.ReasonState},
		{"another browser's return (another cookie)", nil, func(q url.Values, b string) (url.Values, string) { return q, b + "x" }, upstream.ReasonState},
		{"a login that took longer than 10 minutes", func(w *world) { w.now = w.now.Add(11 * time.Minute) }, nil, upstream.ReasonExpired},
		{"iss of another issuer (RFC 9207 mix-up)", nil, func(q url.Values, b string) (url.Values, string) {
			q.Set("iss", "https://attacker.example")
			return q, b
		}, upstream.ReasonIssuer},
		{"iss missing where the provider says it sends it", nil, func(q url.Values, b string) (url.Values, string) { q.Del("iss"); return q, b },
			upstream.ReasonIssuer},
		{"a code the provider refuses (used before)", func(w *world) { w.f.Set(func(f *upstreamtest.Settings) { f.TokenError = "invalid_grant" }) }, nil, upstream.ReasonReplayed},
		{"an ID token signed by another key", func(w *world) {
			w.f.Set(func(f *upstreamtest.Settings) { f.SignWith, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
		}, nil, upstream.ReasonForged},
		{"an ID token for another client", func(w *world) {
			w.f.Set(func(f *upstreamtest.Settings) { f.Tweak = func(c map[string]any) { c["aud"] = "someone-else" } })
		}, nil, upstream.ReasonForged},
		{"an expired ID token", func(w *world) {
			w.f.Set(func(f *upstreamtest.Settings) {
				f.Tweak = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
			})
		}, nil, upstream.ReasonExpired},
		{"an ID token of another issuer", func(w *world) {
			w.f.Set(func(f *upstreamtest.Settings) {
				f.Tweak = func(c map[string]any) { c["iss"] = "https://attacker.example" }
			})
		}, nil, upstream.ReasonIssuer},
		{"an ID token of another login (nonce)", func(w *world) {
			w.f.Set(func(f *upstreamtest.Settings) { f.Tweak = func(c map[string]any) { c["nonce"] = "another" } })
		}, nil, upstream.ReasonNonce},
		{"userinfo about someone else", func(w *world) { w.f.Set(func(f *upstreamtest.Settings) { f.InfoSub = "fc-sub-2" }) }, nil, upstream.ReasonForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, false)
			// The provider's metadata, read at the first login, says it
			// sends iss.
			w.f.Set(func(f *upstreamtest.Settings) { f.IssParam = true })
			q, binding := w.start(t)
			if tt.before != nil {
				tt.before(w)
			}
			if tt.answer != nil {
				q, binding = tt.answer(q, binding)
			}
			_, err := w.client.Finish(t.Context(), q, binding)
			if got := refusal(err); got != tt.want {
				t.Fatalf("Finish = %v (reason %q), want a refusal for %q", err, got, tt.want)
			}
			ev := w.ev.of(mandates.EventUpstreamRefused)
			if len(ev) != 1 || ev[0].Detail["reason"] != tt.want || ev[0].Detail["provider"] != authn.UpstreamFranceConnect || ev[0].PersonID != "" {
				t.Errorf("journaled %+v, want one login.upstream_refused for %q in the deployment's chain", ev, tt.want)
			}
		})
	}
}

func TestReplayedReturnIsRefused(t *testing.T) {
	w := newWorld(t, false)
	q, binding := w.start(t)
	if _, err := w.client.Finish(t.Context(), q, binding); err != nil {
		t.Fatalf("first return: %v", err)
	}
	if _, err := w.client.Finish(t.Context(), q, binding); refusal(err) != upstream.ReasonReplayed {
		t.Fatalf("second return = %v, want refused as replayed", err)
	}
}

func TestProviderDownIsRefusedAsUnavailable(t *testing.T) {
	w := newWorld(t, false)
	w.f.Close()
	if _, _, err := w.client.Start(t.Context(), "/"); refusal(err) != upstream.ReasonUnavailable {
		t.Fatalf("Start with the provider down = %v, want refused as unavailable", err)
	}
	if ev := w.ev.of(mandates.EventUpstreamRefused); len(ev) != 1 || ev[0].Detail["reason"] != upstream.ReasonUnavailable {
		t.Errorf("journaled %+v, want one refusal for unavailable", ev)
	}
}

func TestCancelledAtTheProvider(t *testing.T) {
	w := newWorld(t, false)
	q, binding := w.start(t)
	q.Del("code")
	q.Set("error", "access_denied")
	if _, err := w.client.Finish(t.Context(), q, binding); !errors.Is(err, upstream.ErrCancelled) {
		t.Fatalf("Finish after access_denied = %v, want ErrCancelled", err)
	}
}

// TestResolve: the pivot links, then the link is used; ambiguity and no
// match are refused and journaled; self sign-up opens an account.
func TestResolve(t *testing.T) {
	t.Run("the pivot links Jeanne, the link finds her next time, with acr and amr", func(t *testing.T) {
		w := newWorld(t, false)
		for i := range 2 {
			q, binding := w.start(t)
			id, err := w.client.Finish(t.Context(), q, binding)
			if err != nil {
				t.Fatal(err)
			}
			if id.ACR != "eidas2" || len(id.AMR) != 2 || id.IDToken == "" || id.Return != "/espace" {
				t.Errorf("identity acr %q amr %v return %q; want eidas2, [pwd mfa], /espace and the ID token", id.ACR, id.AMR, id.Return)
			}
			if i == 1 {
				// The pivot no longer matches: only the link can find her.
				w.f.Set(func(f *upstreamtest.Settings) { f.Claims["family_name"] = "Autre" })
				id.Claims.FamilyName = "Autre"
			}
			out, err := w.client.Resolve(t.Context(), id)
			if err != nil || out.PersonID != w.jeanne.ID || out.Linked != (i == 0) {
				t.Fatalf("login %d: Resolve = %+v, %v; want Jeanne, linked the first time only", i+1, out, err)
			}
		}
		if n := len(w.ev.of(mandates.EventUpstreamLinked)); n != 1 {
			t.Errorf("%d login.upstream_linked, want 1", n)
		}
		if ev := w.ev.of(mandates.EventLoginSucceeded); len(ev) != 2 || ev[0].Detail["method"] != "franceconnect" {
			t.Errorf("logins journaled %+v, want 2 with method franceconnect", ev)
		}
	})
	t.Run("two persons with the pivot: refused, in each one's journal", func(t *testing.T) {
		w := newWorld(t, false)
		homonym := w.jeanne
		homonym.ID, homonym.Email = mandates.NewID(time.Now()), "jeanne.homonyme@example.fr"
		if err := w.st.CreatePerson(t.Context(), homonym); err != nil {
			t.Fatal(err)
		}
		q, binding := w.start(t)
		id, err := w.client.Finish(t.Context(), q, binding)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.client.Resolve(t.Context(), id); refusal(err) != upstream.ReasonAmbiguous {
			t.Fatalf("Resolve = %v, want refused as ambiguous", err)
		}
		ev := w.ev.of(mandates.EventUpstreamRefused)
		if len(ev) != 2 || ev[0].PersonID == ev[1].PersonID || ev[0].PersonID == "" {
			t.Errorf("journaled %+v, want one refusal in each homonym's chain", ev)
		}
		if _, err := w.st.UpstreamLinkOf(t.Context(), authn.UpstreamFranceConnect, "fc-sub-1"); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("a link was made despite the ambiguity: %v", err)
		}
	})
	t.Run("nobody with the pivot, self sign-up off: refused as no_match", func(t *testing.T) {
		w := newWorld(t, false)
		w.f.Set(func(f *upstreamtest.Settings) { f.Claims["given_name"] = "Nina" })
		q, binding := w.start(t)
		id, err := w.client.Finish(t.Context(), q, binding)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.client.Resolve(t.Context(), id); refusal(err) != upstream.ReasonNoMatch {
			t.Fatalf("Resolve = %v, want refused as no_match", err)
		}
	})
	t.Run("nobody with the pivot, self sign-up on: the account is opened and linked", func(t *testing.T) {
		w := newWorld(t, true)
		w.f.Set(func(f *upstreamtest.Settings) {
			f.Claims["given_name"] = "Nina"
			f.Claims["email"] = "jeanne@example.fr"
		})
		q, binding := w.start(t)
		id, err := w.client.Finish(t.Context(), q, binding)
		if err != nil {
			t.Fatal(err)
		}
		out, err := w.client.Resolve(t.Context(), id)
		if err != nil || !out.Opened || out.PersonID == w.jeanne.ID {
			t.Fatalf("Resolve = %+v, %v; want a new account", out, err)
		}
		p, err := w.st.Person(t.Context(), out.PersonID)
		if err != nil || p.GivenNames != "Nina" || p.Email != "" || p.PasswordHash != "" {
			t.Errorf("new person %+v, %v; want Nina, without Jeanne's email (taken) nor a password", p, err)
		}
		if ev := w.ev.of(mandates.EventAccountOpened); len(ev) != 1 || ev[0].Detail["by"] != "franceconnect" || ev[0].ActorID != "" {
			t.Errorf("journaled %+v, want account.opened by franceconnect without an actor", ev)
		}
	})
}

func TestLogoutURL(t *testing.T) {
	w := newWorld(t, false)
	to, err := w.client.LogoutURL(t.Context(), "the-id-token", "state=site")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(to)
	q := u.Query()
	if u.Path != "/logout" || q.Get("id_token_hint") != "the-id-token" || q.Get("state") == "" ||
		q.Get("post_logout_redirect_uri") != "http://relais.test/connexion/franceconnect/deconnexion" {
		t.Fatalf("logout URL %s", to)
	}
	back, ok, err := w.client.FinishLogout(t.Context(), q.Get("state"))
	if err != nil || !ok || back != "state=site" {
		t.Fatalf("FinishLogout = %q, %v, %v; want the logout request kept", back, ok, err)
	}
	if _, ok, _ := w.client.FinishLogout(t.Context(), q.Get("state")); ok {
		t.Error("the logout's state was used twice")
	}
}

// TestProConnectMatchesAnActiveMembership: the email and the SIRET
// ProConnect gives must be a person's and the organisation's of an active
// membership; anything else is refused (not_member).
func TestProConnectMatchesAnActiveMembership(t *testing.T) {
	tests := []struct {
		name    string
		email   string
		siret   string
		active  bool
		want    string // refusal reason, "" for a login
		inChain bool   // the refusal is in Jeanne's journal
	}{
		{"an active member", "jeanne@example.fr", "73282932000074", true, "", false},
		{"the SIRET written with spaces", "jeanne@example.fr", "732 829 320 00074", true, "", false},
		{"a withdrawn member", "jeanne@example.fr", "73282932000074", false, upstream.ReasonNotMember, true},
		{"another organisation's SIRET", "jeanne@example.fr", "35600000000048", true, upstream.ReasonNotMember, true},
		{"an email nobody has", "nobody@example.fr", "73282932000074", true, upstream.ReasonNotMember, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, false)
			ctx := t.Context()
			org := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "France Services", Kind: mandates.OrgFranceServices,
				SIRET: "73282932000074", CreatedBy: w.jeanne.ID}
			if err := w.st.CreateOrganisation(ctx, org); err != nil {
				t.Fatal(err)
			}
			m := mandates.Membership{OrganisationID: org.ID, PersonID: w.jeanne.ID, Role: mandates.MemberAidant,
				Active: tt.active, HabilitatedBy: w.jeanne.ID, HabilitatedAt: time.Now()}
			if !tt.active {
				m.WithdrawnBy, m.WithdrawnAt = w.jeanne.ID, time.Now()
			}
			if err := w.st.SaveMembership(ctx, m); err != nil {
				t.Fatal(err)
			}
			pro, err := upstream.New(upstream.Config{Name: authn.UpstreamProConnect, Issuer: w.f.URL, ClientID: "relais", ClientSecret: "s",
				Scopes: []string{"openid"}, RedirectURL: "http://relais.test/connexion/proconnect/retour"},
				upstream.Stores{Logins: w.st, Links: w.st, Persons: w.st, Pivots: w.st, Tx: w.st, Events: w.ev, Orgs: w.st})
			if err != nil {
				t.Fatal(err)
			}
			out, err := pro.Resolve(ctx, upstream.Identity{Provider: authn.UpstreamProConnect, Subject: "pc-1",
				Claims: upstream.Claims{Email: tt.email, SIRET: tt.siret}})
			if tt.want == "" {
				if err != nil || out.PersonID != w.jeanne.ID {
					t.Fatalf("Resolve = %+v, %v; want Jeanne", out, err)
				}
				if ev := w.ev.of(mandates.EventLoginSucceeded); len(ev) != 1 || ev[0].Detail["method"] != "proconnect" {
					t.Errorf("journaled %+v, want login.succeeded by proconnect", ev)
				}
				return
			}
			if refusal(err) != tt.want {
				t.Fatalf("Resolve = %v, want refused as %s", err, tt.want)
			}
			ev := w.ev.of(mandates.EventUpstreamRefused)
			if len(ev) != 1 || (ev[0].PersonID == w.jeanne.ID) != tt.inChain || ev[0].Detail["provider"] != "proconnect" {
				t.Errorf("journaled %+v; in Jeanne's chain: want %v", ev, tt.inChain)
			}
		})
	}
}
