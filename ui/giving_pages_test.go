package ui_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// aidantAsks fills the aidant's form for person, as the aidant would.
func (w *givingWorld) aidantAsks(t *testing.T, aidant *http.Client, person mandates.Person, areas ...string) answer {
	t.Helper()
	return postForm(t, w.app, aidant, "/aidant/mandats/nouveau", url.Values{"email": {person.Email}, "domaines": areas,
		"duree": {"12m"}, "accord": {"connexion"}})
}

// mandateOf is the person's only aidant mandate.
func (w *givingWorld) mandateOf(t *testing.T, person mandates.Person) mandates.Representation {
	t.Helper()
	reps, err := w.app.store.RepresentationsOf(t.Context(), person.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []mandates.Representation
	for _, r := range reps {
		if r.Kind == mandates.AidantMandate {
			out = append(out, r)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%s has %d aidant mandates, want 1", person.GivenNames, len(out))
	}
	return out[0]
}

// TestTutorGivesTheMandateAskedForThePerson: for Jeanne, under tutelle,
// the aidant's request waits for Marie, her tutor; the aidant's page says
// so and offers no way for Jeanne to consent; Jeanne's page says who it
// waits for; Marie answers from her space and reads what happened.
func TestTutorGivesTheMandateAskedForThePerson(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	aidant := signedIn(t, w.app, c.aidant, "pwd", "otp")

	a := w.aidantAsks(t, aidant, c.jeanne, "social")
	rep := w.mandateOf(t, c.jeanne)
	page := "/aidant/mandats/" + rep.ID
	if a.status != http.StatusSeeOther || a.location != page {
		t.Fatalf("create: %d to %q, want the mandate's page (no consent method)", a.status, a.location)
	}
	a = getPage(t, w.app, aidant, page)
	for _, want := range []string{"Le mandat attend l’accord de Marie Martin",
		"Marie Martin, tutrice de Jeanne Petit, doit donner son accord. La demande attend sa réponse dans son espace.",
		"Avec la tutelle, c’est Marie Martin qui donne ce mandat pour Jeanne Petit."} {
		if !a.has(want) {
			t.Errorf("the aidant's page does not say %q:\n%s", want, between(a.body, "<main", "</main>"))
		}
	}
	for _, way := range []string{page + "/connexion", page + "/attestation", page + "/code"} {
		if a.has(`href="` + way + `"`) {
			t.Errorf("the aidant's page offers %s", way)
		}
		if got := getPage(t, w.app, aidant, way); got.status != http.StatusSeeOther || got.location != page {
			t.Errorf("GET %s: %d to %q, want the mandate's page", way, got.status, got.location)
		}
	}
	// The aidant tries Jeanne's login all the same: a clear page, and the
	// refusal is journaled.
	a = postForm(t, w.app, aidant, page+"/connexion", url.Values{"email": {c.jeanne.Email}, "password": {testPassword}})
	if a.status != http.StatusForbidden || !a.has("C’est Marie Martin qui donne ce mandat") || !a.has("Relais n’a pas enregistré l’accord de Jeanne Petit.") {
		t.Fatalf("consent by Jeanne's login: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if len(ofType(chainOf(t, w.app, c.jeanne.ID), mandates.EventRefused)) != 1 {
		t.Error("the refused consent is not in Jeanne's journal")
	}
	a = postForm(t, w.app, aidant, page+"/attestation", url.Values{"accord": {"oui"}})
	if a.status != http.StatusForbidden || !a.has("C’est Marie Martin qui donne ce mandat") {
		t.Errorf("consent on paper: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}

	// Jeanne's own page says who it waits for.
	a = getPage(t, w.app, signedIn(t, w.app, c.jeanne), ofPathT)
	if !a.has("En attente de l’accord de Marie Martin, votre tutrice. Avant, France Services Lyon 8e ne peut rien faire pour vous.") {
		t.Errorf("Jeanne's page:\n%s", between(a.body, "<main", "</main>"))
	}

	// Marie's space has the request.
	marie := signedIn(t, w.app, c.marie)
	if a = getPage(t, w.app, marie, "/espace"); !a.has(`href="/espace/pour-qui-j-agis#demandes"`) || !a.has("Demandes pour Jeanne Petit") {
		t.Errorf("Marie's home has no link to the request:\n%s", between(a.body, "<main", "</main>"))
	}
	a = getPage(t, w.app, marie, forPathT)
	for _, want := range []string{"Demandes pour Jeanne Petit", "Mandat d’aidant avec France Services Lyon 8e",
		"Sophie Bernard, de France Services Lyon 8e, a fait la demande le", "Avec la tutelle, c’est vous qui donnez ce mandat pour Jeanne Petit.",
		"Social, santé", "12 mois, à partir de votre accord", "Donner l’accord pour Jeanne Petit", "Refuser",
		`action="/espace/demandes/` + rep.ID + `/accord"`, `action="/espace/demandes/` + rep.ID + `/refus"`} {
		if !a.has(want) {
			t.Errorf("Marie's space does not say %q:\n%s", want, between(a.body, "<main", "</main>"))
		}
	}
	// Nobody else may answer, nor learn of it.
	if got := postForm(t, w.app, signedIn(t, w.app, c.karim), "/espace/demandes/"+rep.ID+"/accord", nil); got.status != http.StatusNotFound {
		t.Errorf("a stranger's answer: %d, want 404", got.status)
	}
	if got := postForm(t, w.app, signedIn(t, w.app, c.jeanne), "/espace/demandes/"+rep.ID+"/accord", nil); got.status != http.StatusNotFound {
		t.Errorf("Jeanne's own answer there: %d, want 404", got.status)
	}

	a = postForm(t, w.app, marie, "/espace/demandes/"+rep.ID+"/accord", readVersion(t, w.app, rep.ID))
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, forPathT+"?") {
		t.Fatalf("Marie's answer: %d to %q", a.status, a.location)
	}
	if got := stored(t, w.app, rep.ID); got.Status != mandates.StatusActive {
		t.Fatalf("after Marie's answer the mandate is %s", got.Status)
	}
	done := getPage(t, w.app, marie, a.location)
	if !done.has("Vous avez donné l’accord pour Jeanne Petit. Le mandat d’aidant de France Services Lyon 8e commence maintenant.") || done.has("Demandes pour Jeanne Petit") {
		t.Errorf("after the answer:\n%s", between(done.body, "<main", "</main>"))
	}
	// Twice: the request no longer waits, and the page says so.
	if a = postForm(t, w.app, marie, "/espace/demandes/"+rep.ID+"/accord", readVersion(t, w.app, rep.ID)); a.status != http.StatusConflict || !a.has("Cette demande n’attend plus votre réponse") {
		t.Errorf("a second answer: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	// The aidant's page now says the mandate is in force.
	if a = getPage(t, w.app, aidant, page); !a.has("Le mandat de Jeanne Petit est en cours") {
		t.Errorf("the aidant's page after Marie's answer:\n%s", between(a.body, "<main", "</main>"))
	}
}

// TestTutorRefusesTheMandate: Marie refuses; the mandate never starts, and
// the page says what comes next.
func TestTutorRefusesTheMandate(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	rep := startMandate(t, w.app, c, c.jeanne, "social")
	marie := signedIn(t, w.app, c.marie)
	a := postForm(t, w.app, marie, "/espace/demandes/"+rep.ID+"/refus", readVersion(t, w.app, rep.ID))
	if a.status != http.StatusSeeOther {
		t.Fatalf("refuse: %d", a.status)
	}
	if got := stored(t, w.app, rep.ID).Status; got != mandates.StatusRevoked {
		t.Errorf("after the refusal the mandate is %s", got)
	}
	if a = getPage(t, w.app, marie, a.location); !a.has("Vous avez refusé la demande pour Jeanne Petit. Le mandat d’aidant de France Services Lyon 8e ne commence pas.") {
		t.Errorf("after the refusal:\n%s", between(a.body, "<main", "</main>"))
	}
	// A forged notice for someone Marie does not represent says nothing.
	other := startMandate(t, w.app, c, c.ahmed, "social")
	if a = getPage(t, w.app, marie, forPathT+"?fait=refus&r="+other.ID+"&p="+c.ahmed.ID); a.has("Vous avez refusé") {
		t.Error("a forged link shows a notice about someone else")
	}
}

// TestCuratorAgreesAfterThePerson: Paul, under curatelle renforcée,
// consents in person; the aidant's page says Lucie, his curator, must
// agree too, and Lucie's agreement starts the mandate.
func TestCuratorAgreesAfterThePerson(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	aidant := signedIn(t, w.app, c.aidant, "pwd", "otp")
	a := postForm(t, w.app, aidant, "/aidant/mandats/nouveau", url.Values{"email": {w.paul.Email}, "domaines": {"social"},
		"duree": {"6m"}, "accord": {"attestation"}})
	rep := w.mandateOf(t, w.paul)
	if a.status != http.StatusSeeOther || a.location != "/aidant/mandats/"+rep.ID+"/attestation" {
		t.Fatalf("create: %d to %q, want Paul's consent first", a.status, a.location)
	}
	if a = postForm(t, w.app, aidant, a.location, url.Values{"accord": {"oui"}}); a.status != http.StatusSeeOther {
		t.Fatalf("Paul's consent: %d", a.status)
	}
	a = getPage(t, w.app, aidant, "/aidant/mandats/"+rep.ID+"?fait=accord")
	for _, want := range []string{"Le mandat attend l’accord de Lucie Moreau", "L’accord de Paul Durand est enregistré.",
		"Paul Durand a donné son accord. Lucie Moreau, curatrice de Paul Durand, doit aussi donner son accord. La demande attend sa réponse dans son espace.",
		"Avec la curatelle renforcée, il faut l’accord de Paul Durand et celui de Lucie Moreau."} {
		if !a.has(want) {
			t.Errorf("the aidant's page does not say %q:\n%s", want, between(a.body, "<main", "</main>"))
		}
	}
	if a.has(`/attestation"`) || a.has(`/connexion"`) {
		t.Error("the page still offers Paul's consent")
	}
	if a = getPage(t, w.app, signedIn(t, w.app, w.paul), ofPathT); !a.has("En attente de l’accord de Lucie Moreau, votre curatrice.") {
		t.Errorf("Paul's page:\n%s", between(a.body, "<main", "</main>"))
	}
	lucie := signedIn(t, w.app, w.lucie)
	a = getPage(t, w.app, lucie, forPathT)
	if !a.has("Demandes pour Paul Durand") || !a.has("Paul Durand a donné son accord le") || !a.has("Avec la curatelle renforcée, il faut aussi votre accord.") {
		t.Fatalf("Lucie's space:\n%s", between(a.body, "<main", "</main>"))
	}
	if a = postForm(t, w.app, lucie, "/espace/demandes/"+rep.ID+"/accord", readVersion(t, w.app, rep.ID)); a.status != http.StatusSeeOther {
		t.Fatalf("Lucie's answer: %d", a.status)
	}
	if got := stored(t, w.app, rep.ID).Status; got != mandates.StatusActive {
		t.Errorf("after Lucie's agreement the mandate is %s", got)
	}
}

// TestASecondMandateIsRefusedAndTheFirstChanged: asking again for a
// mandate with the same person shows the one there, with a form to change
// it; no second card ever appears.
func TestASecondMandateIsRefusedAndTheFirstChanged(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	aidant := signedIn(t, w.app, c.aidant, "pwd", "otp")
	if a := w.aidantAsks(t, aidant, c.ahmed, "social"); a.status != http.StatusSeeOther {
		t.Fatalf("first: %d", a.status)
	}
	first := w.mandateOf(t, c.ahmed)
	a := w.aidantAsks(t, aidant, c.ahmed, "papiers", "social")
	if a.status != http.StatusConflict {
		t.Fatalf("second: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	change := "/aidant/mandats/" + first.ID + "/changer"
	for _, want := range []string{"Un mandat avec Ahmed Benali existe déjà", "Un mandat des aidants de France Services Lyon 8e avec Ahmed Benali attend déjà un accord.",
		"Relais ne fait pas de deuxième mandat. Vous pouvez changer celui-ci.", `action="` + change + `"`} {
		if !a.has(want) {
			t.Errorf("the page does not say %q:\n%s", want, between(a.body, "<main", "</main>"))
		}
	}
	// The form holds what the aidant just chose.
	for _, id := range []string{"domaine-papiers", "domaine-social", "duree-12m"} {
		if input := between(a.body, `id="`+id+`"`, ">"); !strings.Contains(input, " checked") {
			t.Errorf("%s is not checked: %q", id, input)
		}
	}
	w.mandateOf(t, c.ahmed) // still one
	home := getPage(t, w.app, aidant, "/aidant")
	if n := strings.Count(home.body, "Voir le mandat d’Ahmed Benali"); n != 1 {
		t.Errorf("the aidant's list shows Ahmed's mandate %d times", n)
	}
	// A bad change keeps what was chosen and changes nothing.
	if a = postForm(t, w.app, aidant, change, url.Values{"duree": {"1m"}}); a.status != http.StatusBadRequest || !a.has("Choisissez au moins une démarche.") {
		t.Errorf("a change without areas: %d", a.status)
	}
	a = postForm(t, w.app, aidant, change, url.Values{"domaines": {"papiers", "social"}, "duree": {"1m"}})
	if a.status != http.StatusSeeOther || a.location != "/aidant/mandats/"+first.ID+"?fait=change" {
		t.Fatalf("change: %d to %q", a.status, a.location)
	}
	got := w.mandateOf(t, c.ahmed)
	if got.ID != first.ID || len(got.Areas) != 2 || got.Status != mandates.StatusPendingConsent {
		t.Errorf("after the change: %s %v %s", got.ID, got.Areas, got.Status)
	}
	if a = getPage(t, w.app, aidant, a.location); !a.has("Le mandat est changé. Il attend de nouveau un accord.") || !a.has(`/connexion"`) {
		t.Errorf("the changed mandate's page:\n%s", between(a.body, "<main", "</main>"))
	}
	// A mandate in force: the page says changing it stops it until the new
	// agreement.
	active := activeMandate(t, w.app, c, c.karim, "social")
	if a = getPage(t, w.app, aidant, "/aidant/mandats/"+active.ID+"/changer"); a.status != http.StatusOK || !a.has("Le mandat en cours s’arrête tout de suite.") {
		t.Errorf("changing a mandate in force: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if a = w.aidantAsks(t, aidant, c.karim, "social"); a.status != http.StatusConflict || !a.has("Les aidants de France Services Lyon 8e ont déjà un mandat en cours avec Karim Benali, jusqu’au") {
		t.Errorf("a second mandate with Karim: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
}

// TestAPersonUnderTutelleGivesNoProxyButIsToldWhoDoes: Jeanne's proxy page
// names her tutor, and a proxy sent all the same is refused with the same
// words, and journaled.
func TestAPersonUnderTutelleGivesNoProxyButIsToldWhoDoes(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	jeanne := signedIn(t, w.app, c.jeanne)
	const path = "/espace/procuration/nouvelle"
	say := []string{"Marie Martin, votre tutrice, donne les procurations pour vous.", "Parlez-en à Marie Martin."}
	a := getPage(t, w.app, jeanne, path)
	for _, s := range say {
		if !a.has(s) {
			t.Errorf("the page does not say %q:\n%s", s, between(a.body, "<main", "</main>"))
		}
	}
	a = postForm(t, w.app, jeanne, path, url.Values{"email": {c.karim.Email}, "domaines": {"social"}, "droits": {"consult"}, "duree": {"1m"}})
	if a.status != http.StatusForbidden {
		t.Fatalf("Jeanne's proxy: %d", a.status)
	}
	for _, s := range say {
		if !a.has(s) {
			t.Errorf("the refusal does not say %q:\n%s", s, between(a.body, "<main", "</main>"))
		}
	}
	if len(ofType(chainOf(t, w.app, c.jeanne.ID), mandates.EventRefused)) != 1 {
		t.Error("the refused proxy is not journaled")
	}
	// Paul, under curatelle renforcée, gives one: it waits for his curator.
	paul := signedIn(t, w.app, w.paul)
	a = postForm(t, w.app, paul, path, url.Values{"email": {c.karim.Email}, "domaines": {"social"}, "droits": {"consult"}, "duree": {"1m"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("Paul's proxy: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if a = getPage(t, w.app, paul, a.location); !a.has("En attente de l’accord de Lucie Moreau, votre curatrice.") {
		t.Errorf("Paul's proxy sent:\n%s", between(a.body, "<main", "</main>"))
	}
	// Again to the same person: the one there stays.
	a = postForm(t, w.app, paul, path, url.Values{"email": {c.karim.Email}, "domaines": {"social"}, "droits": {"consult"}, "duree": {"1m"}})
	if a.status != http.StatusConflict || !a.has("Vous avez déjà donné une procuration à Karim Benali") {
		t.Errorf("a second proxy: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
}

const forPathT = "/espace/pour-qui-j-agis"

// TestADelegateLoggedInWithoutTheCodeIsToldHowToSeeTheRequests: a
// measure held through an organisation is usable only with the second
// factor, so its delegate's requests show only after such a login.
func TestADelegateLoggedInWithoutTheCodeIsToldHowToSeeTheRequests(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	now := time.Now().UTC()
	if _, err := w.app.service.RegisterMeasure(t.Context(), mandates.Actor{PersonID: c.operator.ID}, mandates.MeasureInput{Kind: mandates.CuratelleRenforcee,
		PersonID: c.karim.ID, Representatives: []mandates.RepresentativeInput{{OrganisationID: c.org.ID, Delegates: []string{c.admin.ID}, Role: mandates.RoleCurateur}},
		ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00044"}}); err != nil {
		t.Fatal(err)
	}
	activeMandate(t, w.app, c, c.karim, "social")
	a := getPage(t, w.app, signedIn(t, w.app, c.admin), forPathT)
	if !a.has("connectez-vous avec votre code") || !a.has(`href="/login?return=%2Fespace%2Fpour-qui-j-agis"`) || a.has("Demandes pour Karim Benali") {
		t.Errorf("without the code:\n%s", between(a.body, "<main", "</main>"))
	}
	a = getPage(t, w.app, signedIn(t, w.app, c.admin, "pwd", "otp"), forPathT)
	if a.has("connectez-vous avec votre code") || !a.has("Demandes pour Karim Benali") {
		t.Errorf("with the code:\n%s", between(a.body, "<main", "</main>"))
	}
}

// TestTheTutorGivesAProxyForThePerson: Marie gives a proxy for Jeanne
// from her space; Karim, the trusted person, answers it as any proxy.
func TestTheTutorGivesAProxyForThePerson(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	marie := signedIn(t, w.app, c.marie)
	path := "/espace/pour/" + c.jeanne.ID + "/procuration/nouvelle"
	if a := getPage(t, w.app, marie, forPathT); !a.has(`href="`+path+`"`) || !a.has("Donner une procuration pour Jeanne Petit") {
		t.Fatalf("no link to give a proxy for Jeanne:\n%s", between(a.body, "<main", "</main>"))
	}
	a := getPage(t, w.app, marie, path)
	if a.status != http.StatusOK || !a.has("C’est vous qui donnez cette procuration pour Jeanne Petit.") || !a.has(`action="`+path+`"`) {
		t.Fatalf("the form: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	for _, p := range []mandates.Person{c.karim, c.jeanne, w.paul} {
		if got := getPage(t, w.app, signedIn(t, w.app, p), path); got.status != http.StatusNotFound {
			t.Errorf("%s opens the form: %d, want 404", p.GivenNames, got.status)
		}
	}
	form := url.Values{"email": {c.jeanne.Email}, "domaines": {"social"}, "droits": {"consult"}, "duree": {"1m"}}
	if a = postForm(t, w.app, marie, path, form); a.status != http.StatusBadRequest || !a.has("Vous avez tapé l’adresse de Jeanne Petit.") {
		t.Errorf("a proxy to Jeanne herself: %d", a.status)
	}
	form.Set("email", c.karim.Email)
	a = postForm(t, w.app, marie, path, form)
	if a.status != http.StatusSeeOther {
		t.Fatalf("give: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if a = getPage(t, w.app, marie, a.location); !a.has("Vous avez donné une procuration à Karim Benali pour Jeanne Petit.") {
		t.Errorf("after giving:\n%s", between(a.body, "<main", "</main>"))
	}
	karim := signedIn(t, w.app, c.karim)
	if a = getPage(t, w.app, karim, forPathT); !a.has("Jeanne Petit vous propose une procuration") {
		t.Fatalf("Karim's space:\n%s", between(a.body, "<main", "</main>"))
	}
	var proxy mandates.Representation
	reps, _ := w.app.store.RepresentationsOf(t.Context(), c.jeanne.ID)
	for _, r := range reps {
		if r.Kind == mandates.Proxy {
			proxy = r
		}
	}
	if a = postForm(t, w.app, karim, "/espace/procurations/"+proxy.ID+"/accepter", nil); a.status != http.StatusSeeOther {
		t.Fatalf("Karim's answer: %d", a.status)
	}
	if got := stored(t, w.app, proxy.ID).Status; got != mandates.StatusActive {
		t.Errorf("after Karim's answer the proxy is %s", got)
	}
}

// readVersion is the answer form's hidden version: the request as stored
// now, as the representative's page shows it.
func readVersion(t *testing.T, app *oidcApp, id string) url.Values {
	t.Helper()
	return url.Values{"version": {strconv.FormatInt(stored(t, app, id).Version, 10)}}
}

// TestAnAnswerToARequestChangedSinceItWasReadIsShownAgain: the aidant
// widens the mandate after the tutor opened her page; her click on the old
// page gives nothing, and the page says the request changed.
func TestAnAnswerToARequestChangedSinceItWasReadIsShownAgain(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	rep := startMandate(t, w.app, c, c.jeanne, "social")
	old := readVersion(t, w.app, rep.ID)
	if _, err := w.app.service.ChangeMandate(t.Context(), aidantActor(c), rep.ID, []mandates.Area{"social", "papiers"}, mandates.TwelveMonth); err != nil {
		t.Fatal(err)
	}
	marie := signedIn(t, w.app, c.marie)
	a := postForm(t, w.app, marie, "/espace/demandes/"+rep.ID+"/accord", old)
	if a.status != http.StatusConflict || !a.has("La demande a changé") {
		t.Errorf("an answer to the old request: %d\n%s", a.status, a.body)
	}
	if got := stored(t, w.app, rep.ID); got.Status != mandates.StatusPendingConsent {
		t.Errorf("the changed request is %s, want still waiting", got.Status)
	}
	if a := postForm(t, w.app, marie, "/espace/demandes/"+rep.ID+"/accord", nil); a.status != http.StatusConflict {
		t.Errorf("an answer without the version read: %d, want 409", a.status)
	}
}

// TestTheTutorStopsTheMandateSheGave: what Marie gave for Jeanne is listed
// in her space with a button that stops it at once; nobody else can.
func TestTheTutorStopsTheMandateSheGave(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	rep := startMandate(t, w.app, c, c.jeanne, "social")
	if _, err := w.app.service.AnswerForPerson(t.Context(), mandates.Actor{PersonID: c.marie.ID}, rep.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	marie := signedIn(t, w.app, c.marie)
	a := getPage(t, w.app, marie, forPathT)
	for _, want := range []string{"Ce que vous avez donné pour Jeanne Petit", "Arrêter ce mandat pour Jeanne Petit",
		`action="/espace/donnes/` + rep.ID + `/arreter"`} {
		if !a.has(want) {
			t.Errorf("Marie's space does not say %q:\n%s", want, between(a.body, "<main", "</main>"))
		}
	}
	for _, p := range []mandates.Person{c.karim, c.aidant} {
		if got := postForm(t, w.app, signedIn(t, w.app, p), "/espace/donnes/"+rep.ID+"/arreter", nil); got.status != http.StatusNotFound {
			t.Errorf("stopped by %s: %d, want 404", p.GivenNames, got.status)
		}
	}
	if got := stored(t, w.app, rep.ID); got.Status != mandates.StatusActive {
		t.Fatalf("after others tried: %s", got.Status)
	}
	a = postForm(t, w.app, marie, "/espace/donnes/"+rep.ID+"/arreter", nil)
	if a.status != http.StatusSeeOther {
		t.Fatalf("Marie stops it: %d", a.status)
	}
	if got := stored(t, w.app, rep.ID); got.Status != mandates.StatusRevoked {
		t.Errorf("after Marie stopped it: %s, want revoked", got.Status)
	}
	a = getPage(t, w.app, marie, a.location)
	if !a.has("Vous avez arrêté le mandat d’aidant pour Jeanne Petit.") || a.has("Arrêter ce mandat pour Jeanne Petit") {
		t.Errorf("after stopping, Marie's space:\n%s", between(a.body, "<main", "</main>"))
	}
}

// TestAProxyWaitingForTheCuratorIsNotShownAsWaitingForTheHolder: Paul,
// under curatelle renforcée, gives Karim a proxy; until Lucie, his
// curator, agrees, Karim has nothing to answer.
func TestAProxyWaitingForTheCuratorIsNotShownAsWaitingForTheHolder(t *testing.T) {
	w := newGivingWorld(t)
	c := w.c
	paul := signedIn(t, w.app, w.paul)
	a := postForm(t, w.app, paul, "/espace/procuration/nouvelle",
		url.Values{"email": {c.karim.Email}, "domaines": {"social"}, "droits": {"consult"}, "duree": {"6m"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("Paul gives a proxy: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	id := strings.Split(a.location, "/")[3]
	if got := stored(t, w.app, id); got.Waits() != mandates.WaitingRepresentative {
		t.Fatalf("the proxy waits for %q, want the curator first", got.Waits())
	}
	karim := signedIn(t, w.app, c.karim)
	for _, path := range []string{"/espace", forPathT} {
		if a := getPage(t, w.app, karim, path); a.has("Paul Durand vous propose une procuration") || a.has("Accepter la procuration de Paul Durand") {
			t.Errorf("%s offers Karim a proxy still waiting for the curator:\n%s", path, between(a.body, "<main", "</main>"))
		}
	}
}
