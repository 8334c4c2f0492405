package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// inLang makes the user's pages come in lang.
func (u *boUser) inLang(lang string) *boUser {
	target, _ := url.Parse(u.app.srv.URL)
	u.c.Jar.SetCookies(target, []*http.Cookie{{Name: browsertest.LangCookie, Value: lang, Path: "/"}})
	return u
}

// boSnapshot posts a form and keeps the page it answered with, checking
// its status.
func (u *boUser) snapshot(name, path string, form url.Values, want int) snapshot {
	u.t.Helper()
	code, body, _ := u.do(http.MethodPost, path, form)
	if code != want {
		u.t.Fatalf("%s: %d, want %d\n%.2000s", name, code, want, body)
	}
	return snapshot{name: name, status: code, body: []byte(body)}
}

// boSetup is the test data the back-office pages are shown with: a
// measure with some history, a pending mandat de protection future, a
// curatelle held by the organisation with a named delegate and the
// judge's adjustments, and a withdrawn member.
type boSetup struct {
	tutelle, mandat, curatelle string
}

func newBoSetup(t *testing.T, app *oidcApp, c *cast) boSetup {
	t.Helper()
	ctx := t.Context()
	svc := app.service
	op, admin := mandates.Actor{PersonID: c.operator.ID}, mandates.Actor{PersonID: c.admin.ID}
	views, err := svc.SearchMeasures(ctx, op, "Petit")
	if err != nil || len(views) != 1 {
		t.Fatalf("the cast's tutelle: %v %v", views, err)
	}
	var s boSetup
	s.tutelle = views[0].ID
	fix := mandates.CorrectionOf(&views[0].Representation)
	fix.Areas, fix.Reason = []mandates.Area{"argent", "social"}, "domaines mal recopiés"
	if _, err := svc.CorrectMeasure(ctx, op, s.tutelle, 1, fix); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Suspend(ctx, op, s.tutelle, 2, "vérification du jugement"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resume(ctx, op, s.tutelle, 3); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	reps, err := svc.RegisterMeasure(ctx, op, mandates.MeasureInput{Kind: mandates.MandatProtectionFuture, PersonID: c.ahmed.ID,
		Representatives: []mandates.RepresentativeInput{{PersonID: c.karim.ID, Role: mandates.RoleMandataire}}, ValidFrom: now.AddDate(0, 0, -3),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Villeurbanne", Date: now.AddDate(0, 0, -10), Reference: "MPF 2026-118"}})
	if err != nil {
		t.Fatal(err)
	}
	s.mandat = reps[0].ID
	reps, err = svc.RegisterMeasure(ctx, op, mandates.MeasureInput{Kind: mandates.CuratelleRenforcee, PersonID: c.jeanne.ID,
		Representatives: []mandates.RepresentativeInput{{OrganisationID: c.org.ID, Role: mandates.RoleCurateur}}, ValidFrom: now.AddDate(0, -2, 0),
		ValidUntil:  now.AddDate(5, 0, 0),
		Adjustments: []mandates.Adjustment{{Party: mandates.PartyPerson, Area: "argent", Action: mandates.Manage, Decision: mandates.Allowed, Note: "gérer son compte courant"}},
		Decision:    mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -3, 0), Reference: "RG 26/00777"}})
	if err != nil {
		t.Fatal(err)
	}
	s.curatelle = reps[0].ID
	if _, err := svc.SetDelegates(ctx, admin, s.curatelle, 1, []string{c.aidant.ID}); err != nil {
		t.Fatal(err)
	}
	app.enrolTOTPOf(t, c.karim.ID)
	if _, err := svc.Habilitate(ctx, admin, c.org.ID, c.karim.ID, mandates.MemberAidant); err != nil {
		t.Fatal(err)
	}
	if err := svc.WithdrawMember(ctx, admin, c.org.ID, c.karim.ID); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBackofficePagesInABrowser audits every operator and organisation
// page in both languages, and the pages a form post answers with: forms
// shown with their problems, a duplicate decision, and the conflict page.
func TestBackofficePagesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	s := newBoSetup(t, app, c)
	opCookie, adminCookie := sessionFor(t, app, c.operator), sessionFor(t, app, c.admin)

	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		op, admin := boAs(t, app, &c.operator).inLang(lang), boAs(t, app, &c.admin).inLang(lang)
		bad := withForm(boForm(c, "RG 26/90009"), "valid_until", "2020-01-01", "rep1_role", "tuteur", "person_email", "personne@example.fr",
			"areas", "argent", "adj1_party", "representative", "adj1_note", "vendre la voiture")
		snaps := []snapshot{
			op.snapshot("operator-new-errors", "/operateur/mesures/nouvelle", bad, http.StatusBadRequest),
			op.snapshot("operator-new-duplicate", "/operateur/mesures/nouvelle", withForm(boForm(c, "RG 26/00042"), "jurisdiction", "Tribunal judiciaire de Lyon",
				"person_email", c.jeanne.Email, "rep1_email", c.marie.Email, "rep1_role", "tuteur", "kind", "tutelle"), http.StatusConflict),
			op.snapshot("operator-measure-conflict", "/operateur/mesures/"+s.tutelle+"/modifier", url.Values{"version": {"1"},
				"valid_until": {day(time.Now().AddDate(3, 0, 0))}, "areas": {"logement"}}, http.StatusConflict),
			op.snapshot("operator-measure-bad-edit", "/operateur/mesures/"+s.tutelle+"/modifier", url.Values{"version": {"4"},
				"valid_until": {"2001-01-01"}}, http.StatusBadRequest),
			op.snapshot("operator-correct-errors", "/operateur/mesures/"+s.curatelle+"/modifier", url.Values{"version": {"2"},
				"reference": {""}, "rep_email": {"personne@example.fr"}, "role": {"tuteur"}, "valid_from": {"hier"}, "areas": {"lune"},
				"adj2_party": {"person"}, "reason": {""}}, http.StatusBadRequest),
			op.snapshot("operator-orgs-errors", "/operateur/structures", url.Values{"name": {""}, "kind": {"ccas"}, "areas": {"social"},
				"admin_email": {"personne@example.fr"}}, http.StatusBadRequest),
			admin.snapshot("org-habilitate-error", "/structure/"+c.org.ID+"/membres", url.Values{"email": {"personne@example.fr"}, "role": {"aidant"}},
				http.StatusBadRequest),
			admin.snapshot("org-delegates-conflict", "/structure/"+c.org.ID+"/mandats/"+s.curatelle+"/delegues", url.Values{"version": {"1"}},
				http.StatusConflict),
		}
		for _, snap := range snaps {
			path := "/test/" + snap.name + "/" + lang
			app.server.Router().HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(snap.status)
				w.Write(snap.body)
			})
			pages = append(pages, browsertest.Page{Name: snap.name, Path: path, Lang: lang, WantStatus: snap.status})
		}
		pages = append(pages,
			browsertest.Page{Name: "operator-home", Path: "/operateur", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-search", Path: "/operateur?q=Petit", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-search-none", Path: "/operateur?q=inconnu", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-new", Path: "/operateur/mesures/nouvelle", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-measure", Path: "/operateur/mesures/" + s.tutelle + "?fait=modifier", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-measure-pending", Path: "/operateur/mesures/" + s.mandat, Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-measure-organisation", Path: "/operateur/mesures/" + s.curatelle, Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-correct", Path: "/operateur/mesures/" + s.tutelle + "/corriger", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-correct-organisation", Path: "/operateur/mesures/" + s.curatelle + "/corriger", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "operator-orgs", Path: "/operateur/structures", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "org-home", Path: "/structure/" + c.org.ID + "?fait=retire", Lang: lang, Cookies: adminCookie},
			browsertest.Page{Name: "org-home-operator", Path: "/structure/" + c.org.ID, Lang: lang, Cookies: opCookie},
		)
	}
	h := browsertest.Start(t, app.handler)
	h.Check(t, pages...)
}

// boTab opens a tab at width, in French, signed in with the cookies.
func boTab(t *testing.T, h *browsertest.Harness, width int, cookies map[string]string) context.Context {
	t.Helper()
	tab := h.Tab(t, width)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	cookies[browsertest.LangCookie] = "fr"
	for name, value := range cookies {
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	return ctx
}

// boWaitFor polls the tab's location until it holds part.
func boWaitFor(t *testing.T, tab context.Context, part string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc, err := chromedp.Run(tab, chromedp.Location())
		if err == nil && strings.Contains(loc, part) {
			return loc
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never went to …%s (now at %s, %v)", part, loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func boText(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func boDo(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatal(err)
	}
}

// TestBackofficeOperatorAndOrganisationInChromium walks the back office
// end to end in chromium at 320 px: the operator registers a curatelle
// renforcée through the form, finds it on its page and in the search,
// creates an organisation; its administrator habilitates an aidant, then
// withdraws them.
func TestBackofficeOperatorAndOrganisationInChromium(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	lea := newPerson(t, app, "Léa", "Garnier", "lea.garnier@example.fr", "")
	h := browsertest.Start(t, app.handler)
	now := time.Now()

	op := boTab(t, h, 320, sessionFor(t, app, c.operator))
	boDo(t, op, chromedp.Navigate(h.URL("/operateur")),
		chromedp.Click(chromedp.CSS(`a[href="/operateur/mesures/nouvelle"]`)))
	boWaitFor(t, op, "/operateur/mesures/nouvelle")
	boDo(t, op,
		chromedp.SetValue(chromedp.CSS("#kind"), "curatelle_renforcee"),
		chromedp.SendKeys(chromedp.CSS("#person_email"), c.ahmed.Email),
		chromedp.SendKeys(chromedp.CSS("#rep1_email"), c.karim.Email),
		chromedp.SetValue(chromedp.CSS("#rep1_role"), "curateur"),
		chromedp.Click(chromedp.CSS("#area-argent")),
		chromedp.Click(chromedp.CSS("#area-social")),
		chromedp.SendKeys(chromedp.CSS("#valid_from"), day(now.AddDate(0, 0, -7))),
		chromedp.SendKeys(chromedp.CSS("#valid_until"), day(now.AddDate(5, 0, 0))),
		chromedp.SendKeys(chromedp.CSS("#jurisdiction"), "Tribunal judiciaire de Lyon"),
		chromedp.SendKeys(chromedp.CSS("#decision_date"), day(now.AddDate(0, 0, -20))),
		chromedp.SendKeys(chromedp.CSS("#reference"), "RG 26/80008"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
	)
	boWaitFor(t, op, "fait=enregistree")
	if h1 := boText(t, op, "h1"); h1 != "Curatelle renforcée d’Ahmed Benali" {
		t.Errorf("measure page heading %q", h1)
	}
	main := boText(t, op, "main")
	for _, want := range []string{"Karim Benali", "Curateur ou curatrice", "Argent, impôts, consommation", "Social, santé", "RG 26/80008", "En cours", "mesure enregistrée par Olivier Roux"} {
		if !strings.Contains(main, want) {
			t.Errorf("the measure page lacks %q", want)
		}
	}

	boDo(t, op, chromedp.Navigate(h.URL("/operateur")), chromedp.SendKeys(chromedp.CSS("#q"), "RG 26/80008"),
		chromedp.Click(chromedp.CSS(`form[role="search"] button`)))
	boWaitFor(t, op, "q=RG")
	if results := boText(t, op, "main .cards"); !strings.Contains(results, "Curatelle renforcée – Ahmed Benali") || !strings.Contains(results, "Karim Benali") {
		t.Errorf("the search does not find the measure: %q", results)
	}

	boDo(t, op, chromedp.Navigate(h.URL("/operateur/structures")),
		chromedp.SendKeys(chromedp.CSS("#name"), "CCAS de Vénissieux"),
		chromedp.SetValue(chromedp.CSS("#org_kind"), "ccas"),
		chromedp.SendKeys(chromedp.CSS("#address_street"), "Mairie annexe\n2 place de la République"),
		chromedp.SendKeys(chromedp.CSS("#address_postal_code"), "69200"),
		chromedp.SendKeys(chromedp.CSS("#address_locality"), "Vénissieux"),
		chromedp.Click(chromedp.CSS("#org-area-social")),
		chromedp.SendKeys(chromedp.CSS("#admin_email"), lea.Email),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
	)
	loc := boWaitFor(t, op, "fait=creee")
	orgPath := strings.TrimPrefix(strings.TrimSuffix(loc, "?fait=creee"), h.URL(""))
	if h1 := boText(t, op, "h1"); h1 != "CCAS de Vénissieux" {
		t.Errorf("organisation page heading %q", h1)
	}
	if facts := boText(t, op, "main dl.facts"); !strings.Contains(facts, "Mairie annexe\n2 place de la République\n69200 Vénissieux\nFrance") {
		t.Errorf("the organisation's page does not show the address typed: %q", facts)
	}

	admin := boTab(t, h, 320, sessionFor(t, app, lea))
	boDo(t, admin, chromedp.Navigate(h.URL(orgPath)),
		chromedp.SendKeys(chromedp.CSS("#member_email"), c.aidant.Email),
		chromedp.Click(chromedp.CSS(`form[action$="/membres"] button[type="submit"]`)),
	)
	boWaitFor(t, admin, "fait=habilite")
	withdraw := `form[action$="/membres/` + c.aidant.ID + `/retirer"] button`
	if b := boText(t, admin, withdraw); b != "Retirer l’habilitation de Sophie Bernard" {
		t.Errorf("withdraw button %q", b)
	}
	ms, err := app.service.MembershipsOf(t.Context(), c.aidant.ID)
	if err != nil || !hasMembership(ms, strings.TrimPrefix(orgPath, "/structure/"), true) {
		t.Fatalf("the aidant is not an active member: %v %v", ms, err)
	}
	boDo(t, admin, chromedp.Click(chromedp.CSS(withdraw)))
	boWaitFor(t, admin, "fait=retire")
	if main := boText(t, admin, "main"); !strings.Contains(main, "Habilitation retirée le") || !strings.Contains(main, "C’est fait\u00a0: l’habilitation est retirée.") {
		t.Errorf("the page does not say the aidant was withdrawn: %q", main)
	}
	ms, err = app.service.MembershipsOf(t.Context(), c.aidant.ID)
	if err != nil || !hasMembership(ms, strings.TrimPrefix(orgPath, "/structure/"), false) {
		t.Errorf("the aidant is still active: %v %v", ms, err)
	}
}

func hasMembership(ms []mandates.MembershipView, orgID string, active bool) bool {
	for _, m := range ms {
		if m.OrganisationID == orgID && m.Active == active {
			return true
		}
	}
	return false
}
