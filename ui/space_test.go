package ui_test

import (
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// signedIn is a browser-like client signed in as p, which follows no
// redirect, so each answer can be checked.
func signedIn(t *testing.T, app *oidcApp, p mandates.Person, amr ...string) *http.Client {
	t.Helper()
	c := browserClient(t)
	u, _ := url.Parse(app.srv.URL)
	var cookies []*http.Cookie
	for k, v := range sessionFor(t, app, p, amr...) {
		cookies = append(cookies, &http.Cookie{Name: k, Value: v, Path: "/"})
	}
	c.Jar.SetCookies(u, cookies)
	return c
}

type answer struct {
	status   int
	body     string // unescaped, so tests read the words a person reads (see spaceDo)
	location string
}

func (a answer) has(s string) bool { return strings.Contains(a.body, s) }

func spaceDo(t *testing.T, app *oidcApp, c *http.Client, method, path string, form url.Values) answer {
	t.Helper()
	var res *http.Response
	var err error
	if method == http.MethodPost {
		res, err = c.PostForm(app.srv.URL+path, form)
	} else {
		res, err = c.Get(app.srv.URL + path)
	}
	if err != nil {
		t.Fatal(err)
	}
	// French puts a no-break space before « ? : » and inside « »: tests
	// write plain spaces.
	body := strings.ReplaceAll(html.UnescapeString(readBody(t, res)), "\u00a0", " ")
	return answer{status: res.StatusCode, body: body, location: res.Header.Get("Location")}
}

func getPage(t *testing.T, app *oidcApp, c *http.Client, path string) answer {
	t.Helper()
	return spaceDo(t, app, c, http.MethodGet, path, nil)
}

func postForm(t *testing.T, app *oidcApp, c *http.Client, path string, form url.Values) answer {
	t.Helper()
	return spaceDo(t, app, c, http.MethodPost, path, form)
}

func aidantActor(c *cast) mandates.Actor {
	return mandates.Actor{PersonID: c.aidant.ID, SecondFactor: true}
}

// startMandate creates an aidant mandate of the cast's organisation,
// waiting for the person's consent.
func startMandate(t *testing.T, app *oidcApp, c *cast, person mandates.Person, areas ...mandates.Area) mandates.Representation {
	t.Helper()
	rep, err := app.service.StartMandate(t.Context(), aidantActor(c), mandates.MandateInput{OrganisationID: c.org.ID, PersonID: person.ID,
		Areas: areas, Duration: mandates.TwelveMonth})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// activeMandate is a mandate the person consented to in person.
func activeMandate(t *testing.T, app *oidcApp, c *cast, person mandates.Person, areas ...mandates.Area) mandates.Representation {
	t.Helper()
	rep := startMandate(t, app, c, person, areas...)
	rep, err := app.service.RecordInPersonConsent(t.Context(), aidantActor(c), rep.ID, []byte("attestation"))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func stored(t *testing.T, app *oidcApp, id string) mandates.Representation {
	t.Helper()
	r, err := app.store.Representation(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tutelleOf(t *testing.T, app *oidcApp, c *cast) mandates.Representation {
	t.Helper()
	views, err := app.service.Of(t.Context(), c.jeanne.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		if v.Kind == mandates.Tutelle {
			return v.Representation
		}
	}
	t.Fatal("the cast has no tutelle")
	return mandates.Representation{}
}

// decide asks whether actor may manage person's papers now.
func decide(t *testing.T, app *oidcApp, actor, person mandates.Person, area mandates.Area) mandates.Decision {
	t.Helper()
	a, err := app.service.Decide(t.Context(), mandates.Question{ActorID: actor.ID, PersonID: person.ID, Action: mandates.Manage, Area: area, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return a.Decision
}

func countOf(t *testing.T, app *oidcApp, p mandates.Person) int {
	t.Helper()
	views, err := app.service.Of(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(views)
}

func TestSpacePagesAskForALogin(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	for _, path := range []string{"/espace", "/espace/qui-agit-pour-moi", "/espace/pour-qui-j-agis", "/espace/procuration/nouvelle", "/aidant"} {
		a := getPage(t, app, c, path)
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/login?") || !strings.Contains(a.location, url.QueryEscape(path)) {
			t.Errorf("GET %s signed out: %d to %q, want the login page and back", path, a.status, a.location)
		}
	}
	a := postForm(t, app, c, "/espace/procuration/nouvelle", url.Values{"email": {"x@example.fr"}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/login?") {
		t.Errorf("POST signed out: %d to %q", a.status, a.location)
	}
}

func TestSpaceHomeLinksWhatEachPersonCanDo(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	tests := []struct {
		name    string
		who     mandates.Person
		want    []string
		notWant []string
	}{
		{"a capable adult can give a proxy, and acts for nobody", c.ahmed, []string{ofPathT, "/espace/procuration/nouvelle"},
			[]string{"/espace/pour-qui-j-agis", "/aidant", "/operateur", "/structure/"}},
		{"a person under tutelle gives no proxy", c.jeanne, []string{ofPathT}, []string{"/espace/procuration/nouvelle"}},
		{"a family tutor acts for someone", c.marie, []string{"/espace/pour-qui-j-agis"}, []string{"/aidant\""}},
		{"an aidant has the workspace", c.aidant, []string{`href="/aidant"`}, []string{"/structure/"}},
		{"the organisation's administrator manages it", c.admin, []string{"/structure/" + c.org.ID}, []string{"/operateur"}},
		{"an operator has the operator pages", c.operator, []string{"/operateur"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := getPage(t, app, signedIn(t, app, tt.who), "/espace")
			if a.status != http.StatusOK || !a.has("Bonjour "+tt.who.GivenNames) {
				t.Fatalf("%d\n%.1500s", a.status, a.body)
			}
			for _, w := range tt.want {
				if !a.has(w) {
					t.Errorf("no %q on the page", w)
				}
			}
			for _, w := range tt.notWant {
				if a.has(w) {
					t.Errorf("%q on the page", w)
				}
			}
		})
	}
}

const ofPathT = "/espace/qui-agit-pour-moi"

// A court measure is shown with who decided it and how to contest it; the
// person cannot stop it, and nobody else even learns it exists.
func TestCourtMeasureCannotBeStoppedByThePerson(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	tut := tutelleOf(t, app, c)
	jeanne := signedIn(t, app, c.jeanne)

	a := getPage(t, app, jeanne, ofPathT)
	if a.status != http.StatusOK || !a.has("Marie Martin") || !a.has("Tutelle") || !a.has("Tribunal judiciaire de Lyon") || !a.has("RG 26/00042") {
		t.Fatalf("list: %d\n%.3000s", a.status, a.body)
	}
	if a.has("/espace/representations/" + tut.ID + "/arreter") {
		t.Error("the list offers to stop a court measure")
	}
	if a.has("/espace/procuration/nouvelle") {
		t.Error("a person under tutelle is offered to give a proxy")
	}

	stop := "/espace/representations/" + tut.ID + "/arreter"
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		a = spaceDo(t, app, jeanne, method, stop, url.Values{})
		if a.status != http.StatusForbidden || !a.has("Seul un juge") || !a.has("Tribunal judiciaire de Lyon") || !a.has("avocat") {
			t.Errorf("%s stop a tutelle: %d\n%.2000s", method, a.status, a.body)
		}
	}
	if got := stored(t, app, tut.ID).Status; got != mandates.StatusActive {
		t.Errorf("the tutelle is %s after the person's attempt, want active", got)
	}
	if d := decide(t, app, c.marie, c.jeanne, "papiers"); d != mandates.Allowed {
		t.Errorf("the tutor may now %s, want allowed", d)
	}

	// Someone else's representation, or a made-up id: not found, whoever asks.
	for _, tt := range []struct {
		name string
		who  mandates.Person
		path string
	}{
		{"another person", c.ahmed, stop},
		{"the tutor herself", c.marie, stop},
		{"an operator", c.operator, stop},
		{"a made-up id", c.jeanne, "/espace/representations/0190d9a0-0000-7000-8000-000000000000/arreter"},
		{"not an id", c.jeanne, "/espace/representations/pas-un-id/arreter"},
		{"an area of another's", c.ahmed, "/espace/representations/" + tut.ID + "/domaines/social/retirer"},
	} {
		cl := signedIn(t, app, tt.who)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			if a := spaceDo(t, app, cl, method, tt.path, url.Values{}); a.status != http.StatusNotFound {
				t.Errorf("%s, %s: %d, want 404", tt.name, method, a.status)
			}
		}
	}
	if got := stored(t, app, tut.ID).Status; got != mandates.StatusActive {
		t.Errorf("the tutelle is %s, want active", got)
	}
}

func TestPersonStopsAnAidantMandateAreaByAreaThenWhole(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	rep := activeMandate(t, app, c, c.ahmed, "papiers", "social")
	ahmed := signedIn(t, app, c.ahmed)

	a := getPage(t, app, ahmed, ofPathT)
	if !a.has("France Services Lyon 8e") || !a.has("Arrêter l’accès de France Services Lyon 8e") || !a.has("Retirer « Social, santé »") {
		t.Fatalf("list:\n%.3000s", a.body)
	}
	areaPath := "/espace/representations/" + rep.ID + "/domaines/social/retirer"
	a = getPage(t, app, ahmed, areaPath)
	if a.status != http.StatusOK || !a.has("tout de suite") || !a.has("pas annuler") || !a.has("Papiers, citoyenneté, élections") {
		t.Fatalf("confirm an area: %d\n%.2000s", a.status, a.body)
	}
	if got := stored(t, app, rep.ID); len(got.Areas) != 2 {
		t.Fatalf("showing the confirmation changed the areas: %v", got.Areas)
	}
	a = postForm(t, app, ahmed, areaPath, url.Values{})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, ofPathT+"?") {
		t.Fatalf("withdraw an area: %d to %q", a.status, a.location)
	}
	if got := stored(t, app, rep.ID); !slices.Equal(got.Areas, []mandates.Area{"papiers"}) || got.Status != mandates.StatusActive {
		t.Fatalf("after withdrawing social: %v %s", got.Areas, got.Status)
	}
	if d := decide(t, app, c.aidant, c.ahmed, "social"); d != mandates.No {
		t.Errorf("the aidant may still manage social: %s", d)
	}
	if d := decide(t, app, c.aidant, c.ahmed, "papiers"); d != mandates.Allowed {
		t.Errorf("the aidant lost papiers too: %s", d)
	}
	if a = getPage(t, app, ahmed, a.location); !a.has("Vous avez retiré « Social, santé » à France Services Lyon 8e") {
		t.Errorf("no notice after withdrawing an area:\n%.2000s", a.body)
	}
	// The area is gone: its page is no more.
	if a = getPage(t, app, ahmed, areaPath); a.status != http.StatusNotFound {
		t.Errorf("the withdrawn area's page: %d", a.status)
	}

	stop := "/espace/representations/" + rep.ID + "/arreter"
	a = postForm(t, app, ahmed, stop, url.Values{})
	if a.status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", a.status)
	}
	if got := stored(t, app, rep.ID).Status; got != mandates.StatusRevoked {
		t.Fatalf("after withdrawal: %s", got)
	}
	if d := decide(t, app, c.aidant, c.ahmed, "papiers"); d != mandates.No {
		t.Errorf("the aidant may still act: %s", d)
	}
	if a = getPage(t, app, ahmed, a.location); !a.has("Vous avez arrêté l’accès de France Services Lyon 8e") || !a.has("Ce qui est terminé") {
		t.Errorf("no notice after withdrawing:\n%.2000s", a.body)
	}
	// A forged notice for a representation still in force says nothing.
	other := activeMandate(t, app, c, c.ahmed, "logement")
	if a = getPage(t, app, ahmed, ofPathT+"?fait=arret&r="+other.ID); a.has("Vous avez arrêté") {
		t.Error("a forged link shows a notice for a mandate still in force")
	}
	// Twice: it already ended, and the page says so.
	if a = postForm(t, app, ahmed, stop, url.Values{}); a.status != http.StatusConflict || !a.has("déjà terminé") {
		t.Errorf("second withdrawal: %d\n%.1500s", a.status, a.body)
	}
}

func TestProxyFormKeepsAnswersAndWritesNothingWhenWrong(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ahmed := signedIn(t, app, c.ahmed)
	const path = "/espace/procuration/nouvelle"
	good := url.Values{"email": {c.karim.Email}, "domaines": {"social", "logement"}, "droits": {"consult", "manage"}, "duree": {"1m"}}
	with := func(k string, v ...string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		if v == nil {
			f.Del(k)
		} else {
			f[k] = v
		}
		return f
	}
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"a proxy to oneself", with("email", c.ahmed.Email), "votre propre adresse"},
		{"an email without an account", with("email", "personne@example.fr"), "Aucun compte Relais n’a l’adresse « personne@example.fr »"},
		{"no email", with("email", "  "), "Tapez l’adresse e-mail"},
		{"a very long email", with("email", strings.Repeat("a", 5000)+"@example.fr"), "Aucun compte Relais"},
		{"no area", with("domaines"), "au moins une démarche"},
		{"an unknown area", with("domaines", "social", "lune"), "dans la liste"},
		{"an area twice", with("domaines", "social", "social"), "dans la liste"},
		{"nothing granted", with("droits"), "ce que la personne peut faire"},
		{"disposing cannot be granted", with("droits", "dispose"), "ce que la personne peut faire dans la liste"},
		{"no duration", with("duree"), "Choisissez une durée."},
		{"a duration aidants do not know", with("duree", "2y"), "1 jour, 1 mois, 6 mois ou 12 mois"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := postForm(t, app, ahmed, path, tt.form)
			if a.status != http.StatusBadRequest || !a.has(tt.want) || !a.has(`role="alert"`) {
				t.Fatalf("%d, want 400 saying %q\n%.3000s", a.status, tt.want, a.body)
			}
			// What was typed and ticked is kept.
			if tt.form.Get("duree") == "1m" && !a.has(`value="1m" checked`) {
				t.Error("the duration was not kept")
			}
			if slices.Contains(tt.form["domaines"], "logement") && !a.has(`value="logement" aria-describedby="domaine-logement-hint" checked`) {
				t.Error("the areas were not kept")
			}
			if e := tt.form.Get("email"); e != "" && len(e) < 100 && !a.has(`value="`+strings.TrimSpace(e)+`"`) {
				t.Error("the email was not kept")
			}
			if n := countOf(t, app, c.ahmed); n != 0 {
				t.Fatalf("a refused form wrote %d representations", n)
			}
		})
	}

	// Under a court measure, no proxy: the form says why, and a post is refused.
	jeanne := signedIn(t, app, c.jeanne)
	if a := getPage(t, app, jeanne, path); a.status != http.StatusOK || !a.has("mesure de protection") || a.has(`name="email"`) {
		t.Errorf("form for a person under tutelle: %d\n%.1500s", a.status, a.body)
	}
	before := countOf(t, app, c.jeanne)
	if a := postForm(t, app, jeanne, path, with("email", c.karim.Email)); a.status != http.StatusForbidden || !a.has("mesure de protection") {
		t.Errorf("post under tutelle: %d", a.status)
	}
	if countOf(t, app, c.jeanne) != before {
		t.Error("a proxy was written for a person under tutelle")
	}
}

func TestProxyGivenThenAnswered(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ahmed, karim := signedIn(t, app, c.ahmed), signedIn(t, app, c.karim)
	a := postForm(t, app, ahmed, "/espace/procuration/nouvelle",
		url.Values{"email": {" " + strings.ToUpper(c.karim.Email) + " "}, "domaines": {"social"}, "droits": {"consult"}, "duree": {"6m"}})
	if a.status != http.StatusSeeOther || !strings.HasSuffix(a.location, "/envoyee") {
		t.Fatalf("give a proxy: %d to %q\n%.2000s", a.status, a.location, a.body)
	}
	id := strings.Split(a.location, "/")[3]
	sent := a.location
	if a = getPage(t, app, ahmed, sent); a.status != http.StatusOK || !a.has("attend la réponse de Karim Benali") || !a.has("6 mois") {
		t.Fatalf("sent page: %d\n%.2000s", a.status, a.body)
	}
	if a = getPage(t, app, karim, sent); a.status != http.StatusNotFound {
		t.Errorf("the trusted person reads the giver's sent page: %d", a.status)
	}
	if d := decide(t, app, c.karim, c.ahmed, "social"); d != mandates.No {
		t.Errorf("before acceptance the trusted person may: %s", d)
	}
	if a = postForm(t, app, ahmed, "/espace/procurations/"+id+"/accepter", url.Values{}); a.status != http.StatusNotFound {
		t.Errorf("the giver accepts their own proxy: %d", a.status)
	}
	a = getPage(t, app, karim, "/espace/pour-qui-j-agis")
	if !a.has("Ahmed Benali vous propose une procuration") || !a.has("Accepter la procuration d’Ahmed Benali") {
		t.Fatalf("for page:\n%.3000s", a.body)
	}
	a = postForm(t, app, karim, "/espace/procurations/"+id+"/accepter", url.Values{})
	if a.status != http.StatusSeeOther {
		t.Fatalf("accept: %d", a.status)
	}
	if got := stored(t, app, id).Status; got != mandates.StatusActive {
		t.Fatalf("after acceptance: %s", got)
	}
	if d := decide(t, app, c.karim, c.ahmed, "social"); d != mandates.No {
		t.Errorf("consult only was granted, yet managing is %s", d)
	}
	if a = getPage(t, app, karim, a.location); !a.has("Vous avez accepté") {
		t.Errorf("no notice after accepting:\n%.2000s", a.body)
	}
	a = postForm(t, app, karim, "/espace/procurations/"+id+"/refuser", url.Values{})
	if a = getPage(t, app, karim, a.location); !a.has("n’attend plus de réponse") {
		t.Errorf("answering twice:\n%.1500s", a.body)
	}
	if got := stored(t, app, id).Status; got != mandates.StatusActive {
		t.Errorf("a late refusal changed an accepted proxy: %s", got)
	}
}

func TestAidantWithoutTheSecondFactorIsSentToSetItUp(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	pending := startMandate(t, app, c, c.ahmed, "social")
	aidant := signedIn(t, app, c.aidant) // password only
	for _, path := range []string{"/aidant", "/aidant/mandats/nouveau", "/aidant/mandats/" + pending.ID, "/aidant/mandats/" + pending.ID + "/code"} {
		a := getPage(t, app, aidant, path)
		if a.status != http.StatusForbidden || !a.has(`href="/compte/double-authentification"`) || !a.has("/login?return=%2Faidant") {
			t.Errorf("GET %s: %d\n%.1500s", path, a.status, a.body)
		}
	}
	a := postForm(t, app, aidant, "/aidant/mandats/nouveau", url.Values{"email": {c.karim.Email}, "domaines": {"social"}, "duree": {"1m"}, "accord": {"attestation"}})
	if a.status != http.StatusForbidden {
		t.Errorf("POST a mandate without the second factor: %d", a.status)
	}
	a = postForm(t, app, aidant, "/aidant/mandats/"+pending.ID+"/attestation", url.Values{"accord": {"oui"}})
	if a.status != http.StatusForbidden || stored(t, app, pending.ID).Status != mandates.StatusPendingConsent {
		t.Errorf("record a consent without the second factor: %d, %s", a.status, stored(t, app, pending.ID).Status)
	}
	if n := countOf(t, app, c.karim); n != 0 {
		t.Errorf("%d mandates written without the second factor", n)
	}
}

func TestAidantMandateFormRefusesBadAnswers(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	aidant := signedIn(t, app, c.aidant, "pwd", "otp")
	if a := getPage(t, app, aidant, "/aidant"); a.status != http.StatusOK || !a.has("France Services Lyon 8e") || !a.has("/aidant/mandats/nouveau") {
		t.Fatalf("workspace: %d\n%.2000s", a.status, a.body)
	}
	good := url.Values{"email": {c.karim.Email}, "domaines": {"social", "papiers"}, "duree": {"12m"}, "accord": {"connexion"}}
	with := func(k string, v ...string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		if v == nil {
			f.Del(k)
		} else {
			f[k] = v
		}
		return f
	}
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"a mandate for oneself", with("email", c.aidant.Email), "pour lui-même"},
		{"an unknown person", with("email", "inconnu@example.fr"), "Aucun compte Relais"},
		{"no area", with("domaines"), "au moins une démarche"},
		{"an unknown area", with("domaines", "lune"), "dans la liste"},
		{"no duration", with("duree"), "Choisissez une durée."},
		{"a duration aidants do not know", with("duree", "3y"), "1 jour, 1 mois, 6 mois ou 12 mois"},
		{"no way to consent", with("accord"), "comment la personne donne son accord"},
		{"an unknown way to consent", with("accord", "pigeon"), "comment la personne donne son accord"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := postForm(t, app, aidant, "/aidant/mandats/nouveau", tt.form)
			if a.status != http.StatusBadRequest || !a.has(tt.want) || !a.has(`role="alert"`) {
				t.Fatalf("%d, want 400 saying %q\n%.3000s", a.status, tt.want, a.body)
			}
			if n := countOf(t, app, c.karim); n != 0 {
				t.Fatalf("a refused form wrote %d mandates", n)
			}
		})
	}
}

// An organisation that covers only some areas offers only those.
func TestAidantMandateFormOffersTheOrganisationsAreas(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := mandates.Actor{PersonID: c.operator.ID}
	ccas, err := app.service.CreateOrganisation(t.Context(), op, mandates.Organisation{Name: "CCAS de Vénissieux", Kind: mandates.OrgCCAS,
		Areas: []mandates.Area{"social", "logement"}, Address: mandates.Address{Street: "2 place de la Mairie", PostalCode: "69200", Locality: "Vénissieux"}}, c.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	nadia := signedIn(t, app, c.admin, "pwd", "otp")
	// Nadia administers both: the form asks which one.
	a := getPage(t, app, nadia, "/aidant/mandats/nouveau")
	if !a.has(`name="structure" value="`+ccas.ID) || !a.has(`name="structure" value="`+c.org.ID) {
		t.Fatalf("no choice of organisation:\n%.3000s", a.body)
	}
	a = postForm(t, app, nadia, "/aidant/mandats/nouveau", url.Values{"email": {c.karim.Email}, "domaines": {"justice"}, "duree": {"1d"},
		"accord": {"attestation"}, "structure": {ccas.ID}})
	if a.status != http.StatusBadRequest || !a.has("dans la liste") || !a.has(`value="`+ccas.ID+`" checked`) {
		t.Fatalf("an area the CCAS does not cover: %d\n%.3000s", a.status, a.body)
	}
	a = postForm(t, app, nadia, "/aidant/mandats/nouveau", url.Values{"email": {c.karim.Email}, "domaines": {"logement"}, "duree": {"1d"},
		"accord": {"attestation"}})
	if a.status != http.StatusBadRequest || !a.has("Choisissez la structure") {
		t.Fatalf("no organisation chosen: %d", a.status)
	}
	a = postForm(t, app, nadia, "/aidant/mandats/nouveau", url.Values{"email": {c.karim.Email}, "domaines": {"logement"}, "duree": {"1d"},
		"accord": {"attestation"}, "structure": {ccas.ID}})
	if a.status != http.StatusSeeOther || !strings.HasSuffix(a.location, "/attestation") {
		t.Fatalf("%d to %q", a.status, a.location)
	}
}

func TestConsentByThePersonsOwnLogin(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	aidant := signedIn(t, app, c.aidant, "pwd", "otp")
	a := postForm(t, app, aidant, "/aidant/mandats/nouveau",
		url.Values{"email": {c.ahmed.Email}, "domaines": {"social"}, "duree": {"1m"}, "accord": {"connexion"}})
	if a.status != http.StatusSeeOther || !strings.HasSuffix(a.location, "/connexion") {
		t.Fatalf("create: %d to %q\n%.2000s", a.status, a.location, a.body)
	}
	page := a.location
	id := strings.Split(page, "/")[3]
	if a = getPage(t, app, aidant, page); a.status != http.StatusOK || !a.has("Ahmed Benali, vous êtes d’accord ?") || !a.has("Social, santé") {
		t.Fatalf("confirm page: %d\n%.2000s", a.status, a.body)
	}
	a = postForm(t, app, aidant, page, url.Values{"email": {c.ahmed.Email}, "password": {"faux"}})
	if a.status != http.StatusUnauthorized || !a.has("ne correspond pas") || !a.has(`value="`+c.ahmed.Email+`"`) {
		t.Errorf("wrong password: %d\n%.2000s", a.status, a.body)
	}
	a = postForm(t, app, aidant, page, url.Values{"email": {c.karim.Email}, "password": {testPassword}})
	if a.status != http.StatusForbidden || !a.has("Ce compte n’est pas celui d’Ahmed Benali") {
		t.Errorf("someone else's account: %d\n%.2000s", a.status, a.body)
	}
	if got := stored(t, app, id).Status; got != mandates.StatusPendingConsent {
		t.Fatalf("after refused logins: %s", got)
	}
	a = postForm(t, app, aidant, page, url.Values{"email": {c.ahmed.Email}, "password": {testPassword}})
	if a.status != http.StatusSeeOther || a.location != "/aidant/mandats/"+id+"?fait=accord" {
		t.Fatalf("right password: %d to %q", a.status, a.location)
	}
	r := stored(t, app, id)
	if r.Status != mandates.StatusActive || r.Source.Consent.Method != mandates.ConsentInPersonLogin || r.Source.Consent.WitnessID != c.aidant.ID {
		t.Fatalf("after consent: %s %+v", r.Status, r.Source.Consent)
	}
	if a = getPage(t, app, aidant, a.location); !a.has("Ahmed Benali a donné son accord") || !a.has("à tout moment") {
		t.Errorf("after consent:\n%.2000s", a.body)
	}
	// The person's login opened no session: the aidant is still the one signed in.
	if a = getPage(t, app, aidant, "/espace"); !a.has("Bonjour Sophie") {
		t.Error("the person's login replaced the aidant's session")
	}
	if a = getPage(t, app, aidant, page); a.status != http.StatusSeeOther {
		t.Errorf("the confirm page of a mandate in force: %d", a.status)
	}
}

func TestConsentInPersonWithAnAttestation(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	aidant := signedIn(t, app, c.aidant, "pwd", "otp")
	rep := startMandate(t, app, c, c.ahmed, "papiers", "social")
	page := "/aidant/mandats/" + rep.ID + "/attestation"
	a := getPage(t, app, aidant, page)
	if a.status != http.StatusOK || !a.has("Moi, Ahmed Benali") || !a.has("La personne a donné son accord devant moi") {
		t.Fatalf("attestation page: %d\n%.3000s", a.status, a.body)
	}
	if a = postForm(t, app, aidant, page, url.Values{}); a.status != http.StatusBadRequest || !a.has("Cochez la case") {
		t.Errorf("unticked: %d\n%.2000s", a.status, a.body)
	}
	if got := stored(t, app, rep.ID).Status; got != mandates.StatusPendingConsent {
		t.Fatalf("an unticked form recorded a consent: %s", got)
	}
	a = postForm(t, app, aidant, page, url.Values{"accord": {"oui"}})
	if a.status != http.StatusSeeOther || a.location != page+"/imprimer" {
		t.Fatalf("ticked: %d to %q", a.status, a.location)
	}
	r := stored(t, app, rep.ID)
	if r.Status != mandates.StatusActive || r.Source.Consent.Method != mandates.ConsentInPersonAttestation {
		t.Fatalf("after consent: %s %+v", r.Status, r.Source.Consent)
	}
	a = getPage(t, app, aidant, a.location)
	text := between(a.body, `<div class="printable">`, `</div>`)
	sum := sha256.Sum256([]byte(text))
	if a.status != http.StatusOK || hex.EncodeToString(sum[:]) != r.Source.Consent.AttestationHash {
		t.Fatalf("the printed text is not the one recorded: %d\n%s", a.status, text)
	}
	if !a.has("Accord enregistré dans Relais le") {
		t.Error("the printable page does not give the consent's date")
	}
	// In the other language, the paper still carries the recorded text.
	en := signedIn(t, app, c.aidant, "pwd", "otp")
	u, _ := url.Parse(app.srv.URL)
	en.Jar.SetCookies(u, []*http.Cookie{{Name: "relais_lang", Value: "en", Path: "/"}})
	a = getPage(t, app, en, page+"/imprimer")
	if !a.has(`<div class="printable" lang="fr">`) || !strings.Contains(a.body, text) {
		t.Errorf("the English page changed the recorded text:\n%.3000s", a.body)
	}
}

func TestConsentByACodeRefusesReplaysAndGuesses(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	aidant := signedIn(t, app, c.aidant, "pwd", "otp")
	rep := startMandate(t, app, c, c.ahmed, "social")
	page := "/aidant/mandats/" + rep.ID + "/code"
	a := getPage(t, app, aidant, page)
	if a.status != http.StatusOK || !a.has("Envoyer le code au numéro qui finit par 05") {
		t.Fatalf("code page: %d\n%.2000s", a.status, a.body)
	}
	if a = postForm(t, app, aidant, page, url.Values{"etape": {"envoyer"}}); a.status != http.StatusSeeOther {
		t.Fatalf("send: %d\n%.2000s", a.status, a.body)
	}
	code := c.codes.last[c.ahmed.ID]
	if len(code) != 6 {
		t.Fatalf("no code sent: %q", code)
	}
	if a = getPage(t, app, aidant, page); !a.has(`name="code"`) || !a.has("Relais a envoyé un code") {
		t.Fatalf("after sending:\n%.2000s", a.body)
	}
	if a = postForm(t, app, aidant, page, url.Values{"etape": {"verifier"}, "code": {""}}); a.status != http.StatusBadRequest || !a.has("Tapez le code") {
		t.Errorf("empty code: %d", a.status)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	a = postForm(t, app, aidant, page, url.Values{"etape": {"verifier"}, "code": {wrong}})
	if a.status != http.StatusBadRequest || !a.has("Vous pouvez essayer encore 2 fois") {
		t.Errorf("wrong code: %d\n%.2000s", a.status, a.body)
	}
	a = postForm(t, app, aidant, page, url.Values{"etape": {"verifier"}, "code": {code[:3] + " " + code[3:]}})
	if a.status != http.StatusSeeOther || stored(t, app, rep.ID).Status != mandates.StatusActive {
		t.Fatalf("right code: %d, %s", a.status, stored(t, app, rep.ID).Status)
	}
	consents := func() int {
		n := 0
		for _, ch := range stored(t, app, rep.ID).History {
			if ch.Type == mandates.EventConsentGiven {
				n++
			}
		}
		return n
	}
	a = postForm(t, app, aidant, page, url.Values{"etape": {"verifier"}, "code": {code}})
	if a.status != http.StatusBadRequest || !a.has("Ce code ne marche plus") || !a.has("déjà en cours") {
		t.Errorf("replayed code: %d\n%.2000s", a.status, a.body)
	}
	if n := consents(); n != 1 {
		t.Errorf("%d consents recorded, want 1", n)
	}

	// Guessing: the third wrong code cancels the request. (Ahmed stops
	// the first mandate: there is one mandate at a time with a structure.)
	if _, err := app.service.Withdraw(t.Context(), mandates.Actor{PersonID: c.ahmed.ID}, rep.ID); err != nil {
		t.Fatal(err)
	}
	other := startMandate(t, app, c, c.ahmed, "papiers")
	page = "/aidant/mandats/" + other.ID + "/code"
	postForm(t, app, aidant, page, url.Values{"etape": {"envoyer"}})
	code = c.codes.last[c.ahmed.ID]
	guesses := []string{"123456", "654321", "999999"}
	for i, g := range guesses {
		if g == code {
			g = "000001"
		}
		a = postForm(t, app, aidant, page, url.Values{"etape": {"verifier"}, "code": {g}})
		if i < 2 && (a.status != http.StatusBadRequest || stored(t, app, other.ID).Status != mandates.StatusPendingConsent) {
			t.Fatalf("guess %d: %d %s", i+1, a.status, stored(t, app, other.ID).Status)
		}
	}
	if i := strings.Index(a.body, "1 fois"); i >= 0 {
		t.Error("the last answer still offers a try")
	}
	if a.status != http.StatusTooManyRequests || !a.has("Relais a annulé la demande") || !a.has("Créer un nouveau mandat") {
		t.Errorf("third wrong code: %d\n%.2000s", a.status, a.body)
	}
	if got := stored(t, app, other.ID).Status; got != mandates.StatusRevoked {
		t.Errorf("after 3 wrong codes: %s, want revoked", got)
	}
	// Even the right code is now refused.
	if a = postForm(t, app, aidant, page, url.Values{"etape": {"verifier"}, "code": {code}}); stored(t, app, other.ID).Status != mandates.StatusRevoked || a.status < 300 {
		t.Errorf("the right code after cancellation: %d %s", a.status, stored(t, app, other.ID).Status)
	}
	if a = getPage(t, app, aidant, "/aidant/mandats/"+other.ID); !a.has("est arrêté") {
		t.Errorf("the cancelled mandate's page:\n%.1500s", a.body)
	}
}

func TestWithdrawnAidantCannotCreateOrUseMandates(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ctx := t.Context()
	active := activeMandate(t, app, c, c.ahmed, "social")
	pending := startMandate(t, app, c, c.karim, "social")
	if err := app.service.WithdrawMember(ctx, mandates.Actor{PersonID: c.admin.ID}, c.org.ID, c.aidant.ID); err != nil {
		t.Fatal(err)
	}
	aidant := signedIn(t, app, c.aidant, "pwd", "otp")
	a := getPage(t, app, aidant, "/aidant")
	if a.status != http.StatusOK || a.has(`href="/aidant/mandats/nouveau"`) || !a.has("a arrêté votre accès d’aidant") || a.has("Ahmed Benali") {
		t.Errorf("workspace after withdrawal: %d\n%.3000s", a.status, a.body)
	}
	if a = getPage(t, app, aidant, "/aidant/mandats/nouveau"); a.status != http.StatusForbidden || !a.has("aucune structure") {
		t.Errorf("new mandate form: %d", a.status)
	}
	a = postForm(t, app, aidant, "/aidant/mandats/nouveau", url.Values{"email": {c.marie.Email}, "domaines": {"social"}, "duree": {"1m"}, "accord": {"attestation"}})
	if a.status != http.StatusForbidden || countOf(t, app, c.marie) != 0 {
		t.Errorf("create after withdrawal: %d, %d written", a.status, countOf(t, app, c.marie))
	}
	for _, path := range []string{"/aidant/mandats/" + pending.ID, "/aidant/mandats/" + pending.ID + "/attestation", "/aidant/mandats/" + pending.ID + "/connexion"} {
		if a = getPage(t, app, aidant, path); a.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, a.status)
		}
	}
	if a = postForm(t, app, aidant, "/aidant/mandats/"+pending.ID+"/attestation", url.Values{"accord": {"oui"}}); a.status != http.StatusNotFound {
		t.Errorf("record a consent after withdrawal: %d", a.status)
	}
	if got := stored(t, app, pending.ID).Status; got != mandates.StatusPendingConsent {
		t.Errorf("the pending mandate is %s", got)
	}
	if d := decide(t, app, c.aidant, c.ahmed, "social"); d != mandates.No {
		t.Errorf("the withdrawn aidant may still manage: %s", d)
	}
	if got := stored(t, app, active.ID).Status; got != mandates.StatusActive {
		t.Errorf("the organisation's mandate is %s, want it kept", got)
	}
}

// Forged and malformed requests get a page that says what went wrong,
// never a 500.
func TestSpaceAndAidantPagesNeverAnswer500(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	rep := startMandate(t, app, c, c.ahmed, "social")
	tut := tutelleOf(t, app, c)
	ahmed, aidant := signedIn(t, app, c.ahmed), signedIn(t, app, c.aidant, "pwd", "otp")
	long := strings.Repeat("é", 3000)
	for _, tt := range []struct {
		client *http.Client
		method string
		path   string
		form   url.Values
	}{
		{ahmed, "POST", "/espace/procurations/" + tut.ID + "/accepter", nil},
		{ahmed, "POST", "/espace/procurations/pas-un-id/refuser", nil},
		{ahmed, "POST", "/espace/procurations/" + rep.ID + "/accepter", nil},
		{ahmed, "GET", "/espace/procurations/" + rep.ID + "/envoyee", nil},
		{ahmed, "POST", "/espace/representations/" + rep.ID + "/domaines/" + long + "/retirer", nil},
		{ahmed, "POST", "/espace/procuration/nouvelle", url.Values{"email": {long}, "domaines": {long}, "droits": {long}, "duree": {long}}},
		{ahmed, "POST", "/espace/procuration/nouvelle", url.Values{"email": {"\x00@\xff"}}},
		{aidant, "POST", "/aidant/mandats/nouveau", url.Values{"email": {long}, "domaines": {long}, "duree": {long}, "accord": {long}, "structure": {long}}},
		{aidant, "GET", "/aidant/mandats/" + tut.ID, nil},
		{aidant, "GET", "/aidant/mandats/" + tut.ID + "/attestation/imprimer", nil},
		{aidant, "POST", "/aidant/mandats/" + rep.ID + "/code", url.Values{"etape": {"autre"}}},
		{aidant, "POST", "/aidant/mandats/" + rep.ID + "/code", url.Values{"etape": {"verifier"}, "code": {long}}},
		{aidant, "POST", "/aidant/mandats/" + rep.ID + "/connexion", url.Values{"email": {long}, "password": {long}}},
		{aidant, "GET", "/aidant/mandats/" + rep.ID + "/attestation/imprimer", nil},
		{aidant, "GET", "/aidant/mandats/00000000-0000-0000-0000-000000000000/code", nil},
	} {
		a := spaceDo(t, app, tt.client, tt.method, tt.path, tt.form)
		if a.status >= 500 {
			t.Errorf("%s %.80s: %d", tt.method, tt.path, a.status)
		}
	}
	if got := stored(t, app, rep.ID).Status; got != mandates.StatusPendingConsent {
		t.Errorf("forged requests changed the mandate: %s", got)
	}
}
