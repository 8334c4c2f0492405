package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// withLang sets the page language of a client, as the visible switch does.
func withLang(t *testing.T, app *oidcApp, c *http.Client, lang string) *http.Client {
	t.Helper()
	u, _ := url.Parse(app.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: browsertest.LangCookie, Value: lang, Path: "/"}})
	return c
}

// The home page is a way in: « Se connecter », which brings the person back
// to « Mon espace », or « Mon espace » once signed in.
func TestHomeOffersToSignInThenMySpace(t *testing.T) {
	app := newOIDCApp(t)
	loginLink := `href="/login?return=%2Fespace"`
	spaceButton := `<a class="button" href="/espace">`
	tests := []struct {
		name    string
		client  func() *http.Client
		want    []string
		notWant []string
	}{
		{"signed out, in French: « Se connecter »", func() *http.Client { return withLang(t, app, browserClient(t), "fr") },
			[]string{loginLink, ">Se connecter</a>"}, []string{spaceButton}},
		{"signed out, in English: Sign in", func() *http.Client { return withLang(t, app, browserClient(t), "en") },
			[]string{loginLink, ">Sign in</a>"}, []string{spaceButton}},
		{"signed in, in French: « Mon espace »", func() *http.Client { return withLang(t, app, signedIn(t, app, app.person), "fr") },
			[]string{spaceButton + "Mon espace</a>"}, []string{"/login?return"}},
		{"signed in, in English: My space", func() *http.Client { return withLang(t, app, signedIn(t, app, app.person), "en") },
			[]string{spaceButton + "My space</a>"}, []string{"/login?return"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := getPage(t, app, tt.client(), "/")
			if a.status != http.StatusOK {
				t.Fatalf("%d\n%.1500s", a.status, a.body)
			}
			main := between(a.body, "<main", "</main>")
			for _, w := range tt.want {
				if !strings.Contains(main, w) {
					t.Errorf("no %q on the home page:\n%s", w, main)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(main, w) {
					t.Errorf("%q on the home page:\n%s", w, main)
				}
			}
		})
	}
}

// The login page the home page links to brings the person to « Mon
// espace » once the password is right.
func TestHomeLoginBringsThePersonToMySpace(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	a := getPage(t, app, c, "/login?return=%2Fespace")
	if a.status != http.StatusOK || !a.has(`name="return" value="/espace"`) {
		t.Fatalf("the login page does not keep the way back to /espace: %d\n%.2000s", a.status, a.body)
	}
	a = postForm(t, app, c, "/login", url.Values{"return": {"/espace"}, "email": {testEmail}, "password": {testPassword}})
	if a.status != http.StatusSeeOther || a.location != "/espace" {
		t.Fatalf("after login: %d to %q, want /espace", a.status, a.location)
	}
	if a = getPage(t, app, c, "/espace"); a.status != http.StatusOK || !a.has("Bonjour Jeanne") {
		t.Fatalf("« Mon espace » after login: %d\n%.1500s", a.status, a.body)
	}
}

// « Mon espace » starts with what waits for the person and who may act for
// them, with the way to stop a proxy or an aidant mandate; the rest of the
// page follows, as before.
func TestSpaceHomeStartsWithWhatWaitsAndWhoActsForMe(t *testing.T) {
	w := newAccessWorld(t)
	_, pendingForPaul, _, _, _ := cosignRequests(t, w)
	// Karim offers Ahmed a proxy: it waits for Ahmed's answer.
	offered, err := w.app.service.GiveProxy(t.Context(), mandates.Actor{PersonID: w.karim.ID}, mandates.ProxyInput{HolderID: w.ahmed.ID,
		Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult}, Duration: mandates.OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	stop := func(id string) string { return `href="/espace/representations/` + id + `/arreter"` }
	tests := []struct {
		name    string
		who     mandates.Person
		amr     []string
		now     []string // in the first section, « Ce qui attend votre réponse »
		acting  []string // in « Qui peut agir pour moi ? »
		notWant []string
	}{
		{"Fatima sees Ahmed's proxy and the way to stop it", w.fatima, nil, nil,
			[]string{"<h3>Ahmed Benali</h3>", "Procuration.", stop(w.proxy), "Arrêter l’accès d’Ahmed Benali"}, []string{`id="maintenant"`}},
		{"Yvette sees the aidant mandate of France Services and the way to stop it", w.yvette, nil, nil,
			[]string{"France Services Nantes Bellevue", stop(w.aidantMandate)}, nil},
		{"Jeanne sees her tutor, whom only a judge may change, with nothing to stop", w.jeanne, nil, nil,
			[]string{"<h3>Marie Martin</h3>", "Tutelle. Seul un juge peut changer cette mesure."}, []string{stop(w.tutelle)}},
		{"Paul sees the agreement asked of him first", w.paul, nil,
			[]string{`href="/espace/accords"`, "Une demande d’accord attend votre réponse."}, []string{"Service mandataire Entraide Nord"}, []string{stop(w.curatelle)}},
		{"Lucie, with her code, sees the agreement asked of her service", w.lucie, []string{"pwd", "otp"},
			[]string{`href="/espace/accords"`, "demande d’accord"}, nil, []string{`id="qui-agit"`}},
		{"Ahmed sees Karim's proxy waiting for his answer", w.ahmed, nil,
			[]string{`href="/espace/pour-qui-j-agis#a-repondre"`, "Karim Benali vous propose une procuration"}, nil, []string{`id="qui-agit"`}},
		{"Marie has nothing waiting and nobody acting for her", w.marie, nil, nil, nil, []string{`id="maintenant"`, `id="qui-agit"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := getPage(t, w.app, withLang(t, w.app, signedIn(t, w.app, tt.who, tt.amr...), "fr"), "/espace")
			if a.status != http.StatusOK || !a.has("Bonjour "+tt.who.GivenNames) {
				t.Fatalf("%d\n%.1500s", a.status, a.body)
			}
			all := strings.Index(a.body, `id="tout"`)
			if all < 0 || !a.has(`href="/espace/qui-agit-pour-moi"`) {
				t.Fatalf("the rest of the space is gone:\n%s", between(a.body, "<main", "</main>"))
			}
			for _, part := range []struct {
				id   string
				want []string
			}{{`id="maintenant"`, tt.now}, {`id="qui-agit"`, tt.acting}} {
				if len(part.want) == 0 {
					continue
				}
				at := strings.Index(a.body, part.id)
				if at < 0 || at > all {
					t.Fatalf("no %s before the rest of the space:\n%s", part.id, between(a.body, "<main", "</main>"))
				}
				section := a.body[at:all]
				for _, w := range part.want {
					if !strings.Contains(section, w) {
						t.Errorf("no %q in %s:\n%s", w, part.id, section)
					}
				}
			}
			for _, w := range tt.notWant {
				if a.has(w) {
					t.Errorf("%q on the page", w)
				}
			}
		})
	}
	if pendingForPaul == "" || offered.ID == "" {
		t.Fatal("the requests were not made")
	}
}

var journalLinkRE = regexp.MustCompile(`href="(/espace/journal/[^"]+)"`)

// A representative's « Pour qui j’agis » links to the journal of each
// person whose journal they may read, and only to those: every link opens
// the journal, and a journal that would answer 404 is not linked.
func TestSpaceForLinksToTheJournalsTheReaderMayRead(t *testing.T) {
	w := newAccessWorld(t)
	// Karim holds a proxy from Fatima that he has not accepted yet, and
	// France Services waits for Karim's agreement to a mandate: neither
	// Karim nor Sophie may read anything of the other's journal yet.
	if _, err := w.app.service.GiveProxy(t.Context(), mandates.Actor{PersonID: w.fatima.ID}, mandates.ProxyInput{HolderID: w.karim.ID,
		Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult}, Duration: mandates.OneMonth}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	waiting := mandates.Representation{ID: mandates.NewID(now), Kind: mandates.AidantMandate, PersonID: w.karim.ID,
		Representative: mandates.Representative{OrganisationID: w.desk}, Role: mandates.RoleAidant, Areas: []mandates.Area{"social"},
		ValidFrom: now, ValidUntil: mandates.TwelveMonth.End(now), Status: mandates.StatusPendingConsent}
	if err := w.app.store.CreateRepresentation(t.Context(), waiting, mandates.Change{Seq: 1, At: now, ActorID: w.sophie.ID,
		Type: mandates.EventCreated, To: waiting.Status}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		who  mandates.Person
		amr  []string
		want []mandates.Person
	}{
		{"a tutor reads the journal of the person under her tutelle", w.marie, nil, []mandates.Person{w.jeanne}},
		{"a proxy holder reads the part of the journal his proxy covers", w.ahmed, nil, []mandates.Person{w.fatima}},
		{"a curator's delegate with her code reads the journal", w.lucie, []string{"pwd", "otp"}, []mandates.Person{w.paul}},
		{"a curator's delegate without her code gets no link: the page would ask for the code", w.lucie, nil, nil},
		{"an aidant with her code reads the part her mandate covers, not the journal of a person whose agreement waits", w.sophie,
			[]string{"pwd", "otp"}, []mandates.Person{w.yvette}},
		{"a proxy not yet accepted gives no link: the journal would answer 404", w.karim, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := withLang(t, w.app, signedIn(t, w.app, tt.who, tt.amr...), "fr")
			a := getPage(t, w.app, c, "/espace/pour-qui-j-agis")
			if a.status != http.StatusOK {
				t.Fatalf("%d\n%.1500s", a.status, a.body)
			}
			var got []string
			for _, m := range journalLinkRE.FindAllStringSubmatch(a.body, -1) {
				got = append(got, m[1])
			}
			if len(got) != len(tt.want) {
				t.Fatalf("journal links %q, want %d:\n%s", got, len(tt.want), between(a.body, "<main", "</main>"))
			}
			for i, p := range tt.want {
				if got[i] != "/espace/journal/"+p.ID {
					t.Errorf("link %d is %s, want %s's journal", i, got[i], p.GivenNames)
				}
				// « de » before a consonant, « d’ » before a vowel sound.
				if name := mandates.DisplayName(p); !a.has("Voir le journal de "+name) && !a.has("Voir le journal d’"+name) {
					t.Errorf("no « Voir le journal de %s »", name)
				}
				if j := getPage(t, w.app, c, got[i]); j.status != http.StatusOK {
					t.Errorf("the linked journal %s answers %d", got[i], j.status)
				}
			}
		})
	}
	// And where there is no link, the journal's page answers 404.
	for _, c := range []struct {
		reader, person mandates.Person
		amr            []string
	}{{w.karim, w.fatima, nil}, {w.sophie, w.karim, []string{"pwd", "otp"}}} {
		if j := getPage(t, w.app, signedIn(t, w.app, c.reader, c.amr...), "/espace/journal/"+c.person.ID); j.status != http.StatusNotFound {
			t.Errorf("%s opens %s's journal: %d, want 404", c.reader.GivenNames, c.person.GivenNames, j.status)
		}
	}
}
