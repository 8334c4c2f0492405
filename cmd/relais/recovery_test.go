package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
)

// TestServeOffersRecovery: relais serve wires « Mot de passe oublié »: the
// login page links to it, an account and an unknown email get the same
// answer, the account's code notice is written with the code sealed, and
// the operators' second-factor page is mounted (behind the login).
func TestServeOffersRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	base, _, stop := startServe(t, []string{"--demo", "--db", "sqlite:" + path})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ask := func(email string) (int, string) {
		t.Helper()
		res, err := noRedirect.PostForm(base+"/mot-de-passe-oublie", url.Values{"email": {email}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	jeanne := demoPersons[0].person.Email
	kc, kb := ask(jeanne)
	uc, ub := ask("personne@demo.example")
	if kc != http.StatusOK || uc != kc || ub != kb || !strings.Contains(kb, "Si ce compte existe") {
		t.Errorf("an account: %d, an unknown email: %d, same body: %v", kc, uc, ub == kb)
	}
	if code, body := get(t, base+"/login"); code != http.StatusOK || !strings.Contains(body, `href="/mot-de-passe-oublie"`) {
		t.Errorf("the login page: %d, without the link", code)
	}
	res, err := noRedirect.Get(base + "/operateur/personnes/" + mandates.NewID(time.Now()) + "/code-de-securite")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("the operators' page, signed out: %d %s, want the login page", res.StatusCode, res.Header.Get("Location"))
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.PersonByEmail(t.Context(), jeanne)
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.NoticesOf(t.Context(), p.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, n := range list {
		if n.Kind == mandates.EventPasswordResetRequested {
			found = n.Data["sealed_code"] != ""
		}
	}
	if !found {
		t.Error("no reset notice with a sealed code for Jeanne")
	}
}
