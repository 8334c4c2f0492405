package conformance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"
)

// A second factor for every professional act (issue 12), on the demo data:
// Nadia Haddad administers the France Services desk that holds Yvette
// Garnier's aidant mandate, and has no second factor. Logged in with her
// password, she is not offered Yvette, forcing the choice gets the site
// access_denied, and the access evaluation answers false; once she turns
// the code on, the same password-only login chooses Yvette, gives the
// code, and the tokens say amr otp and mfa.

// forWhomPage opens authURL in b, already signed in, and returns the
// "for whom?" page.
func forWhomPage(t *testing.T, b *Browser, authURL string) (*url.URL, []byte) {
	t.Helper()
	res, body, err := b.do(t.Context(), http.MethodGet, authURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := findForm(res.Request.URL, body, "/pour-qui"); !ok || res.StatusCode != http.StatusOK {
		t.Fatalf("the for-whom page: %d %s", res.StatusCode, pageText(body))
	}
	return res.Request.URL, body
}

var secretRe = regexp.MustCompile(`class="totp-secret__text"[^>]*>([^<]+)<`)

// turnCodeOn sets up the second factor of b's person on Relais's pages,
// as they would with an app, and returns its key. The first code is the
// previous time step's, so that the code the next login gives is later.
func turnCodeOn(t *testing.T, tg *target, b *Browser) string {
	t.Helper()
	page := tg.issuer + "/compte/double-authentification"
	if status, _, err := b.Submit(t.Context(), page, "/compte/double-authentification/commencer", nil); err != nil || status != http.StatusSeeOther {
		t.Fatalf("beginning the setup: %d %v", status, err)
	}
	_, body, err := b.do(t.Context(), http.MethodGet, page, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := secretRe.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no key on the setup page: %s", pageText(body))
	}
	key := strings.ReplaceAll(string(m[1]), " ", "")
	code, err := totp.GenerateCode(key, time.Now().Add(-30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, err := b.Submit(t.Context(), page, "/compte/double-authentification", url.Values{"code": {code}}); err != nil || status != http.StatusOK {
		t.Fatalf("confirming the setup: %d %v", status, err)
	}
	return key
}

func amrOf(claims map[string]any) []string { return stringList(claims["amr"]) }

// deskMandate is the id of the aidant mandate the France Services desk
// holds (Yvette's), as its administrator reads it in the back-office API
// with b's session.
func deskMandate(t *testing.T, tg *target, b *Browser) string {
	t.Helper()
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tg.issuer+path, nil)
		req.Header.Set("Accept", "application/json")
		res, err := b.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(out); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
	}
	var orgs struct {
		Organisations []struct{ ID, Kind string } `json:"organisations"`
	}
	get("/api/v1/organisations", &orgs)
	var ids []string
	for _, o := range orgs.Organisations {
		if o.Kind != "france_services" {
			continue
		}
		var ms struct {
			Mandates []struct{ ID, Kind, Status string } `json:"mandates"`
		}
		get("/api/v1/organisations/"+o.ID+"/mandates", &ms)
		for _, m := range ms.Mandates {
			if m.Kind == "aidant_mandate" && m.Status == "active" {
				ids = append(ids, m.ID)
			}
		}
	}
	if len(ids) != 1 {
		t.Fatalf("the desk's aidant mandates in force: %v, want Yvette's alone", ids)
	}
	return ids[0]
}

func testOrganisationNeedsTheSecondFactor(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	ctx := t.Context()
	endpoint := stringOf(tg.metadata(t)["access_evaluation_endpoint"])

	// Yvette's sub at the site, and Nadia's, acting for herself.
	yf, ytok := tg.loginAs(t, web, tg.demoPerson(t, "yvette.garnier@demo.example", ""))
	yvette := stringOf(tg.claimsOfID(t, web, yf, ytok)["sub"])
	nadia := tg.demoPerson(t, "nadia.haddad@demo.example", Self)
	b := tg.browser(t)
	nf := tg.startFlowAs(t, b, web, nadia, Accept)
	if !nf.visit.ForWhomShown || nf.code() == "" {
		t.Fatalf("Nadia for herself: %+v %v", nf.visit, nf.callback)
	}
	ntok := tg.exchange(t, nf)
	nadiaSub := stringOf(tg.claimsOfID(t, web, nf, ntok)["sub"])
	if slices.Contains(amrOf(tg.claimsOfID(t, web, nf, ntok)), "otp") {
		t.Fatal("Nadia's demo account has a second factor: this case needs one without")
	}

	repID := deskMandate(t, tg, b)
	t.Run("without a second factor, no organisation representation", func(t *testing.T) {
		// The site's access evaluation says no, and why.
		res, m := tg.postJSON(t, endpoint, web, evaluation(nadiaSub, yvette, "consult", "social"))
		c, _ := m["context"].(map[string]any)
		reason, _ := c["reason"].(map[string]any)
		if res.StatusCode != http.StatusOK || m["decision"] != false || !strings.Contains(stringOf(reason["fr"]), "code de confirmation") {
			t.Errorf("evaluation for Nadia without a second factor: %d %v, want false with the reason", res.StatusCode, m)
		}
		// The chooser names Yvette but offers no choice of her.
		conf := tg.oauth(t, web)
		authURL := conf.AuthCodeURL(random(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		here, body := forWhomPage(t, b, authURL)
		if _, ok := radioFor(body, "for", "Yvette"); ok || !strings.Contains(pageText(body), "Yvette Garnier") {
			t.Errorf("the for-whom page of a password-only member: %s", pageText(body))
		}
		// Forced with a forged field, the site hears access_denied.
		f, _ := findForm(here, body, "/pour-qui")
		f.fields.Set("for", repID)
		res, _, err := b.do(ctx, http.MethodPost, f.action.String(), f.fields)
		if err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the forged choice: %v %v", res, err)
		}
		loc, _ := here.Parse(res.Header.Get("Location"))
		v, err := b.Authorize(ctx, loc.String(), web.RedirectURI, nadia, Accept)
		if err != nil {
			t.Fatalf("after the forged choice: %v", err)
		}
		if q := v.Callback.Query(); q.Get("error") != "access_denied" || q.Get("code") != "" {
			t.Errorf("a forced organisation representation without a second factor: %v, want access_denied and no code", q)
		}
	})

	t.Run("after the code, tokens under it with amr otp and mfa", func(t *testing.T) {
		// Nadia turns the code on; her login stays a password-only one.
		nadia.TOTPSecret = turnCodeOn(t, tg, b)
		nadia.ForWhom = "Yvette"
		if res, m := tg.postJSON(t, endpoint, web, evaluation(nadiaSub, yvette, "consult", "social")); m["decision"] != true {
			t.Errorf("evaluation once Nadia has a second factor: %d %v, want true", res.StatusCode, m)
		}
		f := tg.startFlowAs(t, b, web, nadia, Accept)
		if f.visit.LoginShown || !f.visit.ForWhomShown || !f.visit.CodeShown || f.code() == "" {
			t.Fatalf("choosing Yvette from the password-only login: %+v %v, want the for-whom page, then the code page, then a code", f.visit, f.callback)
		}
		tok := tg.exchange(t, f)
		_, at := decodeJWT(t, tok.AccessToken)
		for name, claims := range map[string]map[string]any{"ID token": tg.claimsOfID(t, web, f, tok), "access token": at} {
			rep, _ := claims["representation"].(map[string]any)
			act, _ := claims["act"].(map[string]any)
			if claims["sub"] != yvette || act["sub"] != nadiaSub || rep["id"] != repID {
				t.Errorf("%s: sub %v, act %v, representation %v; want Yvette's account, Nadia acting, the desk's mandate", name, claims["sub"], claims["act"], claims["representation"])
			}
			if amr := amrOf(claims); !slices.Contains(amr, "otp") || !slices.Contains(amr, "mfa") {
				t.Errorf("%s: amr %v, want otp and mfa (RFC 8176)", name, amr)
			}
		}
	})
}
