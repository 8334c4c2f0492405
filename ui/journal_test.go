package ui_test

import (
	"encoding/json"
	"html"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/ui"
)

// journalRun is Marie, Jeanne's tutor, having opened Jeanne's account at
// the caf site once, and an administrative change in the admin chain.
func newJournalRun(t *testing.T) *actingRun {
	t.Helper()
	a := newActingRun(t)
	a.accept(t, a.choose(t, a.repID))
	if err := a.app.journal.Emit(t.Context(), mandates.Event{Type: mandates.EventClientCreated, ClientID: "caf",
		Detail: map[string]string{"via": "command"}}); err != nil {
		t.Fatal(err)
	}
	return a
}

func getAs(t *testing.T, a *actingRun, p mandates.Person, path string) (int, string) {
	t.Helper()
	c := signedInClient(t, a.app, p)
	res, err := c.Get(a.app.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, html.UnescapeString(readBody(t, res))
}

// TestJournalPagesShowWhoMaySeeWhat: each reader sees the journals they
// may see, in plain sentences; anyone else gets 404.
func TestJournalPagesShowWhoMaySeeWhat(t *testing.T) {
	a := newJournalRun(t)
	c := a.cast
	cases := []struct {
		name   string
		reader mandates.Person
		path   string
		status int
		says   []string
	}{
		{"Jeanne reads her journal", c.jeanne, "/espace/journal", 200,
			[]string{"Marie Martin, qui exerce votre tutelle, a ouvert votre compte sur le site « Caisse d’allocations familiales »", "Olivier Roux a enregistré la tutelle"}},
		{"Marie, her tutor, reads Jeanne's journal", c.marie, "/espace/journal/" + c.jeanne.ID, 200,
			[]string{"Le journal de Jeanne Petit", "vous avez ouvert le compte de Jeanne Petit sur le site « Caisse d’allocations familiales »"}},
		{"Marie's own journal holds what she did for herself only", c.marie, "/espace/journal", 200, []string{"Mon journal"}},
		{"a stranger may not read Jeanne's journal", c.karim, "/espace/journal/" + c.jeanne.ID, 404, nil},
		{"an id nobody has", c.marie, "/espace/journal/" + mandates.NewID(time.Now()), 404, nil},
		{"something that is no id", c.marie, "/espace/journal/marie", 404, nil},
		{"the organisation's administrator reads its journal", c.admin, "/structure/" + c.org.ID + "/journal", 200,
			[]string{"France Services Lyon 8e", "a donné à une personne le droit d’aider"}},
		{"someone else may not read the organisation's journal", c.marie, "/structure/" + c.org.ID + "/journal", 404, nil},
		{"an operator reads the administrative journal", c.operator, "/operateur/journal", 200,
			[]string{"un administrateur de Relais a enregistré le site « Caisse d’allocations familiales »"}},
		{"someone else may not read the administrative journal", c.jeanne, "/operateur/journal", 404, nil},
		{"Jeanne's journal filtered by site", c.jeanne, "/espace/journal?site=caf", 200, []string{"Marie Martin, qui exerce votre tutelle, a ouvert votre compte"}},
		{"a forged page position", c.jeanne, "/espace/journal?avant=zzz", 400, nil},
		{"the printable journal", c.jeanne, "/espace/journal/imprimer", 200, []string{"Journal de Jeanne Petit, imprimé le", "Marie Martin, qui exerce votre tutelle, a ouvert votre compte"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, page := getAs(t, a, tc.reader, tc.path)
			if status != tc.status {
				t.Fatalf("%s: %d, want %d\n%.1500s", tc.path, status, tc.status, page)
			}
			for _, s := range tc.says {
				if !strings.Contains(page, s) {
					t.Errorf("%s does not say %q:\n%s", tc.path, s, between(page, "<main", "</main>"))
				}
			}
			for _, id := range []string{c.jeanne.ID, c.marie.ID, a.repID} {
				if tc.status == 200 && strings.Contains(between(page, `id="actes"`, "</section>"), id) {
					t.Errorf("%s shows the id %s", tc.path, id)
				}
			}
		})
	}
	// An empty journal of one's own is "votre journal".
	if _, page := getAs(t, a, c.karim, "/espace/journal"); !strings.Contains(page, "Pour l’instant, votre journal est vide.") {
		t.Errorf("Karim's empty journal:\n%s", between(page, "<main", "</main>"))
	}
	// Filtered by another site: no act, and the page says how to see all.
	if _, page := getAs(t, a, c.jeanne, "/espace/journal?site=impots"); !strings.Contains(page, "Aucun acte ne correspond") {
		t.Errorf("a filter matching nothing:\n%s", between(page, "<main", "</main>"))
	}
}

// TestJournalIsPaged: 25 more entries make two pages, newest first, the
// second from the link on the first.
func TestJournalIsPaged(t *testing.T) {
	a := newJournalRun(t)
	for i := range 25 {
		if err := a.app.journal.Emit(t.Context(), mandates.Event{Type: mandates.EventLoginSucceeded, PersonID: a.cast.jeanne.ID,
			ActorID: a.cast.jeanne.ID, At: time.Now().Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	_, first := getAs(t, a, a.cast.jeanne, "/espace/journal")
	if n := strings.Count(first, "vous avez ouvert une session sur Relais"); n != 20 {
		t.Errorf("the first page shows %d logins, want 20", n)
	}
	older := "/espace/journal?avant=" + between(first, "/espace/journal?avant=", `"`)
	if !strings.Contains(first, "Voir les actes plus anciens") || older == "/espace/journal?avant=" {
		t.Fatalf("no link to older acts: %q", older)
	}
	_, second := getAs(t, a, a.cast.jeanne, older)
	if n := strings.Count(second, "vous avez ouvert une session sur Relais"); n != 5 {
		t.Errorf("the second page shows %d logins, want 5", n)
	}
	if !strings.Contains(second, "Marie Martin, qui exerce votre tutelle, a ouvert votre compte") || !strings.Contains(second, "Revenir aux actes les plus récents") {
		t.Errorf("the second page lacks the older acts or the way back:\n%s", between(second, "<main", "</main>"))
	}
}

// TestJournalExportIsTheChainWithItsProofs: the JSON export parses as
// an export of the reader's own chain.
func TestJournalExportIsTheChainWithItsProofs(t *testing.T) {
	a := newJournalRun(t)
	c := signedInClient(t, a.app, a.cast.jeanne)
	res, err := c.Get(a.app.srv.URL + "/espace/journal/export.json")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, res)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	x, err := journal.ParseExport([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if x.Chain != a.cast.jeanne.ID || len(x.Entries) < 2 {
		t.Errorf("export of chain %s with %d entries, want Jeanne's with every entry", x.Chain, len(x.Entries))
	}
	if rep := journal.VerifyExport(x, nil); rep.Entries != int64(len(x.Entries)) {
		t.Errorf("export check: %+v", rep)
	}
}

// TestEveryEventTypeHasItsSentence: each event type reads as a sentence in
// both languages, whoever did it.
func TestEveryEventTypeHasItsSentence(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		b, err := os.ReadFile("locales/journal." + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(b, &msgs); err != nil {
			t.Fatal(err)
		}
		for _, typ := range mandates.EventTypes {
			for _, form := range []string{"you", "other"} {
				if msgs["journal.event."+string(typ)+"."+form] == "" {
					t.Errorf("%s: no sentence for %s (%s)", lang, typ, form)
				}
			}
		}
	}
}

// TestNewEventTypesReadAsPlainSentences renders one entry of each event
// type added for expiries, access evaluations and co-signatures, as
// Jeanne reads them in her journal: the site, who would act, the act in
// the words of the other pages, and the answer.
func TestNewEventTypesReadAsPlainSentences(t *testing.T) {
	a := newActingRun(t)
	c := a.cast
	at := time.Date(2027, 3, 3, 13, 5, 0, 0, time.UTC)
	entry := func(typ mandates.EventType, actor, client string, fields map[string]string) journal.Stored {
		e := journal.Stored{Entry: journal.Entry{Chain: c.jeanne.ID, Seq: 1, Type: typ, At: at, ActorID: actor, PersonID: c.jeanne.ID,
			RepresentationID: a.repID, ClientID: client, Areas: []mandates.Area{"social"}}}
		if fields != nil {
			e.Detail = &journal.Detail{Salt: []byte("0123456789abcdef"), Fields: fields}
		}
		return e
	}
	cases := []struct {
		name   string
		e      journal.Stored
		fr, en []string
	}{
		{"a tutelle that reached its end date", entry(mandates.EventExpired, "", "", map[string]string{"valid_until": "2031-03-03T12:00:00.5Z"}),
			[]string{"la tutelle a pris fin le 3 mars 2031, à la date prévue."},
			[]string{"guardianship ended on 3 March 2031, as planned."}},
		{"a site asked whether Marie may consult: yes", entry(mandates.EventAccessEvaluated, c.marie.ID, "caf", map[string]string{"action": "consult", "decision": "allowed"}),
			[]string{"le site « Caisse d’allocations familiales » a demandé si Marie Martin", "peut faire un acte avec votre compte. L’acte : « Voir le dossier ». La réponse de Relais : oui."},
			[]string{"the site “Caisse d’allocations familiales” asked whether Marie Martin", "may do an act with your account. The act: “See the file”. Relais answered: yes."}},
		{"a site asked whether Marie may sell: only with an agreement", entry(mandates.EventAccessEvaluated, c.marie.ID, "caf", map[string]string{"action": "dispose", "decision": "cosign"}),
			[]string{"L’acte : « Faire les actes importants (vendre, signer un engagement) ». La réponse de Relais : oui, avec l’accord de l’autre personne."},
			[]string{"The act: “Do important acts (sell, sign a commitment)”. Relais answered: yes, with the other person’s agreement."}},
		{"a site asked whether Jeanne herself may do a procedure: no", entry(mandates.EventAccessEvaluated, c.jeanne.ID, "caf", map[string]string{"action": "manage", "decision": "refused"}),
			[]string{"le site « Caisse d’allocations familiales » a demandé si vous pouvez faire un acte avec votre compte. L’acte : « Faire les démarches courantes ». La réponse de Relais : non."},
			[]string{"the site “Caisse d’allocations familiales” asked whether you may do an act with your account. The act: “Do everyday procedures”. Relais answered: no."}},
		{"an evaluation whose detail was erased", entry(mandates.EventAccessEvaluated, c.marie.ID, "caf", nil),
			[]string{"peut faire un acte avec votre compte."},
			[]string{"may do an act with your account."}},
		{"Marie asked for an agreement", entry(mandates.EventCosignRequested, c.marie.ID, "", map[string]string{"client_id": "caf", "action": "dispose", "cosignature_id": "x", "acting": c.marie.ID}),
			[]string{"Marie Martin", "a demandé un accord pour un acte avec votre compte sur le site « Caisse d’allocations familiales ». L’acte : « Faire les actes importants (vendre, signer un engagement) »."},
			[]string{"Marie Martin", "asked for an agreement to an act with your account on the site “Caisse d’allocations familiales”. The act: “Do important acts (sell, sign a commitment)”."}},
		{"Jeanne gave her agreement", entry(mandates.EventCosignApproved, c.jeanne.ID, "", map[string]string{"client_id": "caf", "action": "dispose"}),
			[]string{"vous avez donné votre accord pour un acte avec votre compte sur le site « Caisse d’allocations familiales ». L’acte : « Faire les actes importants"},
			[]string{"you gave your agreement to an act with your account on the site “Caisse d’allocations familiales”. The act: “Do important acts"}},
		{"Jeanne refused her agreement", entry(mandates.EventCosignRefused, c.jeanne.ID, "", map[string]string{"client_id": "caf", "action": "manage"}),
			[]string{"vous avez refusé de donner votre accord pour un acte avec votre compte sur le site « Caisse d’allocations familiales ». L’acte : « Faire les démarches courantes »."},
			[]string{"you refused your agreement to an act with your account on the site “Caisse d’allocations familiales”. The act: “Do everyday procedures”."}},
		{"the site used the agreement for Marie's act", entry(mandates.EventCosignUsed, c.marie.ID, "", map[string]string{"client_id": "caf", "action": "dispose"}),
			[]string{"le site « Caisse d’allocations familiales » a utilisé l’accord donné pour un acte de Marie Martin", "avec votre compte. L’acte : « Faire les actes importants"},
			[]string{"the site “Caisse d’allocations familiales” used the agreement given for an act by Marie Martin", "with your account. The act: “Do important acts"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string][]string{"fr": tc.fr, "en": tc.en} {
				got := ui.JournalSentence(t.Context(), a.app.server, c.jeanne.ID, c.jeanne.ID, lang, tc.e)
				for _, w := range want {
					if !strings.Contains(got, w) {
						t.Errorf("%s: %q\ndoes not say %q", lang, got, w)
					}
				}
				for _, bad := range []string{"{{", "<no value>", "journal.event", "L’acte : « »", "The act: “”"} {
					if strings.Contains(got, bad) {
						t.Errorf("%s: %q holds %q", lang, got, bad)
					}
				}
			}
		})
	}
}

// TestSentencesNameTheActorsRole: an act by someone who holds the
// representation the entry names says what they are to the person, in
// words without gender, from the real representations of the cast: a
// tutelle, a proxy and an aidant mandate. Nobody's role is named to
// themselves, to the journal's owner, to a reader who may not see the
// representation, nor for someone who does not hold it.
func TestSentencesNameTheActorsRole(t *testing.T) {
	a := newJournalRun(t)
	c := a.cast
	ctx := t.Context()
	proxy := karimHoldsAhmedsProxy(t, a)
	mandate := activeMandate(t, a.app, c, c.ahmed, "social")
	issued := ofType(chainOf(t, a.app, c.jeanne.ID), mandates.EventTokenIssued)
	if len(issued) != 1 {
		t.Fatalf("Jeanne's journal holds %d tokens issued, want Marie's one", len(issued))
	}
	tutor := issued[0]
	opened := func(person, actor, org, rep string) journal.Stored {
		return journal.Stored{Entry: journal.Entry{Chain: person, Seq: 1, Type: mandates.EventTokenIssued, At: time.Now(), ActorID: actor,
			OrganisationID: org, PersonID: person, RepresentationID: rep, ClientID: "caf", Areas: []mandates.Area{"social"}},
			Detail: &journal.Detail{Fields: map[string]string{"grant_type": "authorization_code"}}}
	}
	created := ofType(chainOf(t, a.app, c.jeanne.ID), mandates.EventCreated)
	cases := []struct {
		name          string
		reader, owner string
		e             journal.Stored
		fr, en        string
	}{
		{"Jeanne reads what her tutor did", c.jeanne.ID, c.jeanne.ID, tutor,
			"Marie Martin, qui exerce votre tutelle, a ouvert votre compte sur le site « Caisse d’allocations familiales ».",
			"Marie Martin, your guardian, opened your account on the site “Caisse d’allocations familiales”."},
		{"Ahmed reads what the person he trusts did", c.ahmed.ID, c.ahmed.ID, opened(c.ahmed.ID, c.karim.ID, "", proxy.ID),
			"Karim Benali, qui a votre procuration, a ouvert votre compte",
			"Karim Benali, who holds your proxy, opened your account"},
		{"Ahmed reads what the aidant did", c.ahmed.ID, c.ahmed.ID, opened(c.ahmed.ID, c.aidant.ID, c.org.ID, mandate.ID),
			"Sophie Bernard, qui vous aide avec un mandat, a ouvert votre compte",
			"Sophie Bernard, who helps you under a mandate, opened your account"},
		{"the organisation's administrator reads what its aidant did", c.admin.ID, "", opened(c.ahmed.ID, c.aidant.ID, c.org.ID, mandate.ID),
			"Sophie Bernard, qui aide Ahmed Benali avec un mandat, a ouvert le compte d’Ahmed Benali",
			"Sophie Bernard, who helps Ahmed Benali under a mandate, opened Ahmed Benali’s account"},
		{"the site extended the tutor's access", c.jeanne.ID, c.jeanne.ID,
			func() journal.Stored {
				e := opened(c.jeanne.ID, c.marie.ID, "", a.repID)
				e.Detail.Fields["grant_type"] = "refresh_token"
				return e
			}(),
			"le site « Caisse d’allocations familiales » a prolongé l’accès de Marie Martin, qui exerce votre tutelle, à votre compte.",
			"the site “Caisse d’allocations familiales” extended the access of Marie Martin, your guardian, to your account."},
		{"Marie reads what she did herself", c.marie.ID, c.jeanne.ID, tutor,
			"vous avez ouvert le compte de Jeanne Petit sur le site",
			"you opened Jeanne Petit’s account on the site"},
		{"a reader who may not see the tutelle", c.karim.ID, c.jeanne.ID, tutor,
			"Marie Martin a ouvert le compte de Jeanne Petit",
			"Marie Martin opened Jeanne Petit’s account"},
		{"the operator who registered the tutelle holds no role in it", c.jeanne.ID, c.jeanne.ID, created[0],
			"Olivier Roux a enregistré la tutelle.",
			"Olivier Roux registered guardianship."},
		{"someone who does not hold the representation named", c.jeanne.ID, c.jeanne.ID, opened(c.jeanne.ID, c.operator.ID, "", a.repID),
			"Olivier Roux a ouvert votre compte",
			"Olivier Roux opened your account"},
		{"the owner of the journal acting under the measure over them", c.marie.ID, c.jeanne.ID, opened(c.jeanne.ID, c.jeanne.ID, "", a.repID),
			"Jeanne Petit a ouvert le compte de Jeanne Petit",
			"Jeanne Petit opened Jeanne Petit’s account"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string]string{"fr": tc.fr, "en": tc.en} {
				if got := ui.JournalSentence(ctx, a.app.server, tc.reader, tc.owner, lang, tc.e); !strings.Contains(got, want) {
					t.Errorf("%s: %q\ndoes not say %q", lang, got, want)
				}
			}
		})
	}
}

// TestEveryKindNamesItsRepresentativesRole: each kind, and the subrogés,
// have the words for the actor's role, for the person and for others.
func TestEveryKindNamesItsRepresentativesRole(t *testing.T) {
	keys := []string{string(mandates.RoleSubrogeTuteur), string(mandates.RoleSubrogeCurateur)}
	for _, k := range mandates.Kinds {
		keys = append(keys, string(k))
	}
	for _, lang := range []string{"fr", "en"} {
		b, err := os.ReadFile("locales/journal." + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(b, &msgs); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if msgs["journal.role."+k+".your"] == "" || !strings.Contains(msgs["journal.role."+k+".of"], "{{.Person}}") {
				t.Errorf("%s: no words for the role under %s", lang, k)
			}
		}
	}
}

// TestRepresentativesKeepTheJournalsTheyRead: Marie, Jeanne's tutor in
// every area, prints and exports Jeanne's journal; Karim, who holds
// Ahmed's proxy for benefits only, prints the entries of that area and
// gets no export; anyone else gets 404.
func TestRepresentativesKeepTheJournalsTheyRead(t *testing.T) {
	a := newJournalRun(t)
	c := a.cast
	ctx := t.Context()
	karimHoldsAhmedsProxy(t, a)
	for _, area := range []mandates.Area{"social", "logement"} {
		if err := a.app.journal.Emit(ctx, mandates.Event{Type: mandates.EventTokenIssued, PersonID: c.ahmed.ID, ActorID: c.ahmed.ID,
			ClientID: "site-" + string(area), Areas: []mandates.Area{area}, Detail: map[string]string{"grant_type": "authorization_code"}}); err != nil {
			t.Fatal(err)
		}
	}
	jeanne, ahmed := "/espace/journal/"+c.jeanne.ID, "/espace/journal/"+c.ahmed.ID
	cases := []struct {
		name     string
		reader   mandates.Person
		path     string
		status   int
		says     []string
		saysNot  []string
		location string
	}{
		{"Jeanne's tutor has the links to keep her journal", c.marie, jeanne, 200,
			[]string{"Garder le journal de Jeanne Petit", `href="` + jeanne + `/imprimer"`, "Imprimer le journal de Jeanne Petit",
				`href="` + jeanne + `/export.json"`, "Télécharger le journal de Jeanne Petit (fichier JSON)"},
			[]string{"Vous voyez seulement"}, ""},
		{"Jeanne's tutor prints her journal", c.marie, jeanne + "/imprimer", 200,
			[]string{"Journal de Jeanne Petit, imprimé le", "vous avez ouvert le compte de Jeanne Petit", `href="` + jeanne + `"`,
				"Revenir au journal de Jeanne Petit", "téléchargez aussi le fichier signé par Relais depuis le journal de Jeanne Petit"},
			[]string{"Vous voyez seulement"}, ""},
		{"the proxy holder has the page to print, and the reason for no export", c.karim, ahmed, 200,
			[]string{`href="` + ahmed + `/imprimer"`, "Une page prête pour le papier, avec les actes que vous pouvez voir.",
				"Vous voyez seulement les actes des domaines où vous agissez pour Ahmed Benali.",
				"Pour être vérifié, le fichier signé par Relais doit contenir tous les actes du journal. Vous ne pouvez donc pas télécharger ce fichier."},
			[]string{"export.json", "Télécharger"}, ""},
		{"the proxy holder prints the entries of the benefits area only", c.karim, ahmed + "/imprimer", 200,
			[]string{"Journal d’Ahmed Benali, imprimé le", "« site-social »", "Vous voyez seulement les actes des domaines où vous agissez pour Ahmed Benali.",
				"Revenir au journal d’Ahmed Benali"},
			[]string{"site-logement", "téléchargez aussi"}, ""},
		{"the proxy holder may not export", c.karim, ahmed + "/export.json", 404, nil, nil, ""},
		{"a stranger may not print Jeanne's journal", c.karim, jeanne + "/imprimer", 404, nil, nil, ""},
		{"a stranger may not export Jeanne's journal", c.karim, jeanne + "/export.json", 404, nil, nil, ""},
		{"the tutor may not print the journal of someone else", c.marie, ahmed + "/imprimer", 404, nil, nil, ""},
		{"an id nobody has", c.marie, "/espace/journal/" + mandates.NewID(time.Now()) + "/export.json", 404, nil, nil, ""},
		{"something that is no id", c.marie, "/espace/journal/jeanne/imprimer", 404, nil, nil, ""},
		{"one's own id leads to one's own page to print", c.jeanne, jeanne + "/imprimer", 303, nil, nil, "/espace/journal/imprimer"},
		{"one's own id leads to one's own export", c.jeanne, jeanne + "/export.json", 303, nil, nil, "/espace/journal/export.json"},
		{"Jeanne still has the links to keep her own journal", c.jeanne, "/espace/journal", 200,
			[]string{`href="/espace/journal/imprimer"`, "Imprimer mon journal", `href="/espace/journal/export.json"`, "Télécharger mon journal (fichier JSON)"}, nil, ""},
		{"Jeanne still prints her own journal", c.jeanne, "/espace/journal/imprimer", 200,
			[]string{"Journal de Jeanne Petit, imprimé le", `href="/espace/journal"`, "Revenir à mon journal", "depuis « Mon journal »"}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := signedInClient(t, a.app, tc.reader).Get(a.app.srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			page := html.UnescapeString(readBody(t, res))
			if res.StatusCode != tc.status {
				t.Fatalf("%s: %d, want %d\n%.1500s", tc.path, res.StatusCode, tc.status, page)
			}
			if got := res.Header.Get("Location"); got != tc.location {
				t.Errorf("%s leads to %q, want %q", tc.path, got, tc.location)
			}
			main := between(page, "<main", "</main>")
			for _, s := range tc.says {
				if !strings.Contains(main, s) {
					t.Errorf("%s does not say %q:\n%s", tc.path, s, main)
				}
			}
			for _, s := range tc.saysNot {
				if strings.Contains(main, s) {
					t.Errorf("%s says %q:\n%s", tc.path, s, main)
				}
			}
		})
	}

	// The tutor's export is Jeanne's whole chain, and it verifies.
	res, err := signedInClient(t, a.app, c.marie).Get(a.app.srv.URL + jeanne + "/export.json")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, res)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("the tutor's export: %d %v", res.StatusCode, res.Header)
	}
	x, err := journal.ParseExport([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if whole := chainOf(t, a.app, c.jeanne.ID); x.Chain != c.jeanne.ID || len(x.Entries) != len(whole) {
		t.Errorf("the tutor's export holds chain %s with %d entries, want Jeanne's %d", x.Chain, len(x.Entries), len(whole))
	}
	if rep := journal.VerifyExport(x, nil); rep.Entries != int64(len(x.Entries)) {
		t.Errorf("the tutor's export does not verify: %+v", rep)
	}
}

// karimHoldsAhmedsProxy: Ahmed gives Karim a proxy to consult his social
// benefits, and Karim accepts it.
func karimHoldsAhmedsProxy(t *testing.T, a *actingRun) mandates.Representation {
	t.Helper()
	c := a.cast
	proxy, err := a.app.service.GiveProxy(t.Context(), mandates.Actor{PersonID: c.ahmed.ID}, mandates.ProxyInput{HolderID: c.karim.ID,
		Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult}, Duration: mandates.SixMonths})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.app.service.AnswerProxy(t.Context(), mandates.Actor{PersonID: c.karim.ID}, proxy.ID, true); err != nil {
		t.Fatal(err)
	}
	return proxy
}
