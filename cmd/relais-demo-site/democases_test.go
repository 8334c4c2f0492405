package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/relais-fr/relais/conformance"
)

// TestEachDemoCaseAgainstRelais signs each demo person in at the site
// through a real `relais serve --demo` (forms filled by conformance's
// scripted browser, no chromium) and does one act, so the JSON the site
// reads and sends is Relais's own: the tutor manages, the person under
// tutelle may not, the MJPM delegate's dispose act needs Paul's agreement,
// which he gives in his Relais space, and the proxy holder may not dispose.
// reportWatch counts the reports Relais did not take.
type reportWatch struct {
	slog.Handler
	failed *atomic.Int64
}

func (h reportWatch) WithAttrs(as []slog.Attr) slog.Handler {
	return reportWatch{h.Handler.WithAttrs(as), h.failed}
}

func (h reportWatch) WithGroup(name string) slog.Handler {
	return reportWatch{h.Handler.WithGroup(name), h.failed}
}

func (h reportWatch) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == msgReportFailed {
		h.failed.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func TestEachDemoCaseAgainstRelais(t *testing.T) {
	var site *Site
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { site.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	rl := startRelais(t, []string{"--id", "demo-site-test", "--name", "Caisse d’allocations de démonstration",
		"--redirect-uri", srv.URL + "/callback", "--scope", "openid identite_pivot", "--procedure-area", "social,papiers,argent,logement"})
	reports := reportWatch{Handler: slog.NewTextHandler(testWriter{t}, nil), failed: new(atomic.Int64)}
	site = newSite(config{Issuer: rl.issuer, ClientID: "demo-site-test", ClientSecret: rl.secret, RedirectURL: srv.URL + "/callback",
		PostLogoutURL: srv.URL + "/"}, slog.New(reports))
	// Every act done is reported to Relais, which takes it.
	t.Cleanup(func() {
		if n := reports.failed.Load(); n > 0 {
			t.Errorf("%d acts could not be reported to Relais", n)
		}
	})

	var signInWith func(t *testing.T, acc conformance.Account) (*conformance.Browser, string)
	// signIn logs email in at the site, choosing forWhom on Relais's
	// "for whom?" page, and returns the browser and the account page.
	signIn := func(t *testing.T, email, forWhom string) (*conformance.Browser, string) {
		t.Helper()
		return signInWith(t, conformance.Account{Email: email, Password: rl.password(email), ForWhom: forWhom,
			TOTPSecret: conformance.DemoTOTPKey(rl.stdout.String(), email)})
	}
	signInWith = func(t *testing.T, acc conformance.Account) (*conformance.Browser, string) {
		t.Helper()
		b := conformance.NewBrowser(nil)
		get := func(u string) (*http.Response, string) {
			res, err := b.HTTPClient().Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			return res, string(body)
		}
		res, _ := get(srv.URL + "/connexion")
		v, err := b.Authorize(t.Context(), res.Header.Get("Location"), srv.URL+"/callback",
			acc, conformance.Accept)
		if err != nil {
			t.Fatalf("%s at Relais: %v", acc.Email, err)
		}
		if res, body := get(v.Callback.String()); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d\n%s", res.StatusCode, visible(body))
		}
		_, page := get(srv.URL + "/compte")
		return b, visible(page)
	}
	post := func(t *testing.T, b *conformance.Browser, u string, form url.Values) (int, string) {
		t.Helper()
		res, err := b.HTTPClient().PostForm(u, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode == http.StatusSeeOther && strings.HasPrefix(loc, "/") {
			res, err = b.HTTPClient().Get(srv.URL + loc)
			if err != nil {
				t.Fatal(err)
			}
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, visible(string(body))
	}

	tests := []struct {
		name, email, forWhom, act string
		account, result           []string
	}{
		{"the tutor manages for the person", "marie.martin@demo.example", "Jeanne", "declarer",
			[]string{"Compte de Jeanne Lefèvre", "Marie Martin, tuteur ou tutrice, pour Jeanne Lefèvre", "Vous pouvez : Voir le dossier Faire les démarches courantes Faire les actes importants"},
			[]string{"C’est fait."}},
		{"the person under tutelle may not manage alone", "jeanne.lefevre@demo.example", "", "declarer",
			[]string{"Compte de Jeanne Lefèvre", "Vous agissez en votre nom."},
			[]string{"Cette démarche n’est pas possible.", "Réponse de Relais : refusé"}},
		{"the proxy holder may not dispose", "ahmed.benali@demo.example", "Fatima", "rembourser",
			[]string{"Compte de Fatima Benali", "Ahmed Benali, personne de confiance, pour Fatima Benali"},
			[]string{"Cette démarche n’est pas possible."}},
		{"the person under curatelle renforcée needs agreement to manage", "paul.durand@demo.example", "", "declarer",
			[]string{"Compte de Paul Durand", "Vous agissez en votre nom."},
			[]string{"Cette démarche demande un accord.", "La personne qui vous représente doit donner son accord."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, page := signIn(t, tt.email, tt.forWhom)
			for _, want := range tt.account {
				if !strings.Contains(page, want) {
					t.Errorf("the account page does not say %q:\n%s", want, page)
				}
			}
			_, result := post(t, b, srv.URL+"/actes/"+tt.act, nil)
			for _, want := range tt.result {
				if !strings.Contains(result, want) {
					t.Errorf("the act's page does not say %q:\n%s", want, result)
				}
			}
		})
	}

	t.Run("the aidant, with her second factor, may not dispose outside the mandate's areas", func(t *testing.T) {
		email := "sophie.bernard@demo.example"
		b, page := signInWith(t, conformance.Account{Email: email, Password: rl.password(email), ForWhom: "Yvette",
			TOTPSecret: conformance.DemoTOTPKey(rl.stdout.String(), email)})
		if !strings.Contains(page, "Sophie Bernard, aidant ou aidante (France Services Nantes Bellevue), pour Yvette Garnier") {
			t.Errorf("the account page:\n%s", page)
		}
		if _, result := post(t, b, srv.URL+"/actes/declarer", nil); !strings.Contains(result, "C’est fait.") {
			t.Errorf("manage in social:\n%s", result)
		}
		if _, result := post(t, b, srv.URL+"/actes/rembourser", nil); !strings.Contains(result, "Cette démarche n’est pas possible.") {
			t.Errorf("dispose in argent:\n%s", result)
		}
	})

	t.Run("the delegate's dispose act is done once Paul agrees", func(t *testing.T) {
		lucie, page := signIn(t, "lucie.moreau@demo.example", "Paul")
		if !strings.Contains(page, "Lucie Moreau, curateur ou curatrice (Service mandataire Entraide Nord), pour Paul Durand") {
			t.Errorf("the account page:\n%s", page)
		}
		if _, result := post(t, lucie, srv.URL+"/actes/rembourser", nil); !strings.Contains(result, "Paul Durand doit donner son accord.") {
			t.Fatalf("dispose:\n%s", result)
		}
		if _, result := post(t, lucie, srv.URL+"/actes/rembourser/accord", nil); !strings.Contains(result, "La demande d’accord est envoyée.") {
			t.Fatalf("asking for agreement:\n%s", result)
		}
		if _, result := post(t, lucie, srv.URL+"/actes/rembourser/verifier", nil); !strings.Contains(result, "L’accord n’est pas encore donné.") {
			t.Fatalf("checked before the agreement:\n%s", result)
		}

		// Paul, signed in at Relais, finds the request in his space and
		// agrees.
		paul, _ := signIn(t, "paul.durand@demo.example", "")
		res, err := paul.HTTPClient().Get(rl.issuer + "/espace/accords")
		if err != nil {
			t.Fatal(err)
		}
		list, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := regexp.MustCompile(`/espace/accords/([0-9a-f-]{36})`).FindStringSubmatch(string(list))
		if m == nil {
			t.Fatalf("Paul's requests page lists nothing:\n%s", visible(string(list)))
		}
		res, err = paul.HTTPClient().PostForm(rl.issuer+"/espace/accords/"+m[1], url.Values{"answer": {"accept"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("Paul's agreement: %d", res.StatusCode)
		}

		_, result := post(t, lucie, srv.URL+"/actes/rembourser/verifier", nil)
		if !strings.Contains(result, "C’est fait.") || !strings.Contains(result, "La demande de remboursement pour Paul Durand est envoyée") {
			t.Fatalf("checked after the agreement:\n%s", result)
		}
		// Once: the same act again needs a new agreement.
		if _, result := post(t, lucie, srv.URL+"/actes/rembourser", nil); !strings.Contains(result, "Cette démarche demande un accord.") {
			t.Errorf("the act again:\n%s", result)
		}
	})
}
