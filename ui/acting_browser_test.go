package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// TestForWhomPagesInABrowser audits, in French and English at 320 and
// 1280 px, the "for whom?" page (with a preselected person), the page
// after a choice that is not the person's, and the consent page when
// acting for someone (with acts asked by authorization_details and the
// sensitive protection scope).
func TestForWhomPagesInABrowser(t *testing.T) {
	a := newActingRun(t)
	// Marie also holds a proxy from Karim, so the page lists two people.
	p, err := a.app.service.GiveProxy(t.Context(), mandates.Actor{PersonID: a.cast.karim.ID},
		mandates.ProxyInput{HolderID: a.cast.marie.ID, Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult}, Duration: mandates.SixMonths})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.app.service.AnswerProxy(t.Context(), mandates.Actor{PersonID: a.cast.marie.ID}, p.ID, true); err != nil {
		t.Fatal(err)
	}
	token, sessionID := authn.NewSessionToken()
	now := time.Now()
	if err := a.app.store.CreateSession(t.Context(), authn.BrowserSession{ID: sessionID, PersonID: a.cast.marie.ID, AuthTime: now, AMR: []string{"pwd"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	marie := map[string]string{"relais_session": token}
	details, _ := json.Marshal([]authz.AuthorizationDetail{{Type: "public_service_act", Actions: []string{"consult", "manage"}, ProcedureAreas: []string{"social"}}})
	authorize := cafAuthorizePath
	acting := authorize(url.Values{"relais_for": {a.app.provider.SealChoice(sessionID, "caf", a.repID)}, "authorization_details": {string(details)}})
	self := authorize(url.Values{"relais_for": {a.app.provider.SealChoice(sessionID, "caf", authz.ActingSelf)}, "scope": {"openid identite_pivot protection"}})

	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		c := signedInClient(t, a.app, a.cast.marie)
		u, _ := url.Parse(a.app.srv.URL)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: browsertest.LangCookie, Value: lang, Path: "/"}})
		_, page := (&actingRun{app: a.app, c: c}).page(t, authorize(nil))
		res, err := c.PostForm(a.app.srv.URL+"/pour-qui", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))},
			"for": {mandates.NewID(time.Now())}})
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, res)
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged choice: %d", res.StatusCode)
		}
		path := "/test/forwhom-error/" + lang
		a.app.server.Router().HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(body))
		})
		pages = append(pages,
			browsertest.Page{Name: "forwhom", Path: authorize(url.Values{"for_hint": {a.cast.jeanne.Email}}), Lang: lang, Cookies: marie},
			browsertest.Page{Name: "forwhom-error", Path: path, Lang: lang, WantStatus: http.StatusBadRequest, Cookies: marie},
			browsertest.Page{Name: "consent-acting", Path: acting, Lang: lang, Cookies: marie},
			browsertest.Page{Name: "consent-protection", Path: self, Lang: lang, Cookies: marie},
		)
	}
	h := browsertest.Start(t, a.app.handler)
	h.Check(t, pages...)
}

// cafAuthorizePath is the demo site's authorization request, with PKCE,
// and the parameters in extra added or replaced.
func cafAuthorizePath(extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {"caf"}, "redirect_uri": {"http://127.0.0.1/cb"},
		"scope": {"openid identite_pivot"}, "state": {"state-123456"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return "/authorize?" + q.Encode()
}
