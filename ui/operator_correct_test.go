package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// rightsOf is the page's list of what name may do: the description list
// under the heading that names them.
func rightsOf(t *testing.T, page, heading string) string {
	t.Helper()
	plain := htmlUnescape(page)
	i := strings.Index(plain, heading)
	if i < 0 {
		t.Fatalf("the page has no heading %q", heading)
	}
	return between(plain[i:], "<dl", "</dl>")
}

// TestTheSauvegardePageSaysWhatTheJudgeNamed: the judge named the acts of
// the mandataire spécial in one area; the table of what he may do says so
// for that area, as the policy answers there, instead of a « non » beside
// the judge's « Logement : oui ».
func TestTheSauvegardePageSaysWhatTheJudgeNamed(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	body := curatelleBody(c, "RG 26/11011")
	body["kind"], body["valid_until"] = "sauvegarde_justice", day(time.Now().AddDate(0, 6, 0))
	body["representatives"] = []map[string]any{{"person_email": c.karim.Email, "role": "mandataire_special"}}
	body["adjustments"] = []map[string]any{{"party": "representative", "area": "logement", "action": "manage", "decision": "allowed", "note": "résilier le bail"}}
	code, out := op.api(http.MethodPost, "/api/v1/measures", body)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, out)
	}
	id := out["representations"].([]any)[0].(map[string]any)["id"].(string)
	_, page, _ := op.do(http.MethodGet, "/operateur/mesures/"+id, nil)
	rights := rightsOf(t, page, "Ce que Karim Benali peut faire pour la personne")
	manage := between(rights, "<dt>Faire les démarches courantes</dt>", "</dd>")
	for _, want := range []string{"oui pour\u00a0: Logement", "non pour les autres domaines"} {
		if !strings.Contains(manage, want) {
			t.Errorf("the everyday procedures of the mandataire spécial read %q, want %q", manage, want)
		}
	}
	if consult := between(rights, "<dt>Voir le dossier</dt>", "</dd>"); !strings.Contains(consult, "non") || strings.Contains(consult, "Logement") {
		t.Errorf("seeing the file reads %q, want a plain « non »: the judge named nothing there", consult)
	}
	if !strings.Contains(htmlUnescape(page), "Le représentant, Faire les démarches courantes, Logement\u00a0: oui") {
		t.Error("the judge's change is no longer listed")
	}
}

// TestAMeasureNotInForceSaysSoOnItsPage: a mandat de protection future
// waiting to be put in force says what it is without claiming it applies
// now, and its rights say nobody can act under it yet; once in force, the
// page says neither.
func TestAMeasureNotInForceSaysSoOnItsPage(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	body := curatelleBody(c, "MPF 2026-077")
	body["kind"], body["valid_until"] = "mandat_protection_future", ""
	body["representatives"] = []map[string]any{{"person_email": c.karim.Email, "role": "mandataire"}}
	_, out := op.api(http.MethodPost, "/api/v1/measures", body)
	page := "/operateur/mesures/" + out["representations"].([]any)[0].(map[string]any)["id"].(string)
	_, text, _ := op.do(http.MethodGet, page, nil)
	plain := htmlUnescape(text)
	if !strings.Contains(plain, "Pas encore en vigueur") {
		t.Fatal("the pending mandate does not say it is not yet in force")
	}
	if strings.Contains(plain, "s’applique maintenant") {
		t.Error("the pending mandate's page says the choice applies now")
	}
	const notYet = "Cette mesure n’est pas en vigueur maintenant\u00a0: personne ne peut agir avec elle."
	if !strings.Contains(plain, notYet) {
		t.Error("the rights of a pending mandate do not say nobody can act under it yet")
	}
	if code, _, _ := op.do(http.MethodPost, page+"/activer", url.Values{"version": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("activate: %d", code)
	}
	_, text, _ = op.do(http.MethodGet, page, nil)
	if plain := htmlUnescape(text); strings.Contains(plain, notYet) || !strings.Contains(plain, "En cours") {
		t.Error("the mandate in force still says nobody can act under it")
	}
}

// correctionSetup is a curatelle renforcée of Ahmed by Karim and the
// organisation, registered by the API, and another decision.
func correctionSetup(t *testing.T, app *oidcApp, c *cast, op *boUser) (karims, orgs string) {
	t.Helper()
	body := curatelleBody(c, "RG 26/12012")
	body["representatives"] = []map[string]any{
		{"person_email": c.karim.Email, "role": "curateur"},
		{"organisation_id": c.org.ID, "role": "co_curateur", "procedure_areas": []string{"argent"}},
	}
	code, out := op.api(http.MethodPost, "/api/v1/measures", body)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, out)
	}
	reps := out["representations"].([]any)
	if code, out := op.api(http.MethodPost, "/api/v1/measures", curatelleBody(c, "RG 26/13013")); code != http.StatusCreated {
		t.Fatalf("register the other decision: %d %v", code, out)
	}
	return reps[0].(map[string]any)["id"].(string), reps[1].(map[string]any)["id"].(string)
}

func TestTheCorrectionFormRefusesWhatTheDomainRefusesAndKeepsWhatWasTyped(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	karims, _ := correctionSetup(t, app, c, op)
	page := "/operateur/mesures/" + karims
	code, form, _ := op.do(http.MethodGet, page+"/corriger", nil)
	if code != http.StatusOK {
		t.Fatalf("correction page: %d", code)
	}
	for _, shown := range []string{`id="edit_reference" name="reference" type="text" value="RG 26/12012"`, `value="Tribunal judiciaire de Lyon"`,
		`value="` + c.karim.Email + `"`, `<option value="curateur" selected>`, `id="edit_until" name="valid_until" type="text" value="` + day(time.Now().AddDate(5, 0, 0)) + `"`,
		`name="version" value="1"`, `id="reason-modifier" name="reason"`} {
		if !strings.Contains(form, shown) {
			t.Errorf("the correction form does not show %s", shown)
		}
	}
	good := url.Values{"version": {"1"}, "reference": {"RG 26/12012"}, "jurisdiction": {"Tribunal judiciaire de Lyon"},
		"rep_email": {c.karim.Email}, "role": {"curateur"}, "valid_until": {day(time.Now().AddDate(5, 0, 0))}, "reason": {"erreur de saisie"}}
	tests := []struct {
		name   string
		form   url.Values
		status int
		field  string
		says   string
	}{
		{"without a reason", withForm(good, "reference", "RG 26/12099", "reason", ""), 400, "reason-modifier", "Écrivez le motif de la correction"},
		{"with a reason over 500 bytes", withForm(good, "reference", "RG 26/12099", "reason", strings.Repeat("motif ", 100)), 400, "reason-modifier", "500 caractères au plus"},
		{"without a decision number", withForm(good, "reference", ""), 400, "edit_reference", "numéro de la décision"},
		{"without a court", withForm(good, "jurisdiction", ""), 400, "edit_jurisdiction", "nom du tribunal"},
		{"with an impossible decision date", withForm(good, "decision_date", "2026-02-30"), 400, "edit_decision_date", "date de la décision n’est pas une date valide"},
		{"with a start in another format", withForm(good, "valid_from", "01/03/2026"), 400, "edit_from", "La date de début n’est pas une date valide"},
		{"with an end before the start", withForm(good, "valid_until", "2001-01-01"), 400, "edit_until", "après la date de début"},
		{"with an unknown representative", withForm(good, "rep_email", "personne@example.fr"), 400, "edit_rep_email", "aucun compte Relais"},
		{"with the person as her own representative", withForm(good, "rep_email", c.ahmed.Email), 400, "edit_rep_email", "propre représentant"},
		{"with a person and an organisation", withForm(good, "rep_org", c.org.ID), 400, "edit_rep_email", "pas les deux"},
		{"with a representative the decision already names", withForm(good, "rep_email", "", "rep_org", c.org.ID), 400, "edit_rep_email", "nomme déjà ce représentant"},
		{"with a role of another measure", withForm(good, "role", "tuteur"), 400, "edit_role", "ce rôle n’existe pas"},
		{"with an unknown area", withForm(good, "areas", "lune"), 400, "edit-area-papiers", "domaines de la liste"},
		{"with an adjustment without its act", withForm(good, "adj1_party", "person", "adj1_decision", "allowed"), 400, "edit_adj1_action", "Changement 1"},
		{"that changes nothing", good, 400, "edit_until", "Vous n’avez rien changé"},
		{"to another registered decision", withForm(good, "reference", "rg 26/13013"), 409, "edit_reference", "Une autre décision enregistrée"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op.t = t
			code, text, _ := op.do(http.MethodPost, page+"/modifier", tt.form)
			if code != tt.status {
				t.Fatalf("status %d, want %d\n%s", code, tt.status, between(htmlUnescape(text), `role="alert"`, "</div>"))
			}
			if !strings.Contains(text, `role="alert"`) || !strings.Contains(text, `href="#`+tt.field+`"`) || !invalidInput(text, tt.field) {
				t.Errorf("no error summary linking to %s, or the input is not marked", tt.field)
			}
			if !strings.Contains(htmlUnescape(text), tt.says) {
				t.Errorf("the page does not say %q; its alert:\n%s", tt.says, between(htmlUnescape(text), `role="alert"`, "</div>"))
			}
			for _, typed := range []string{tt.form.Get("reference"), tt.form.Get("rep_email"), tt.form.Get("reason")} {
				if typed != "" && !strings.Contains(htmlUnescape(text), `value="`+strings.TrimSpace(typed)+`"`) {
					t.Errorf("the form lost %q", typed)
				}
			}
			if _, now := op.api(http.MethodGet, "/api/v1/representations/"+karims, nil); now["version"] != 1.0 {
				t.Errorf("a refused correction changed the record: version %v", now["version"])
			}
		})
	}
}

// TestAnOperatorCorrectsTheDecisionAndTheRepresentative: every field is
// corrected through the form; Karim's record ends, with the reason, and
// Marie's is created; the organisation's record follows the decision; the
// correction is in Ahmed's journal with its reason; Karim still reads his
// ended record and why, Marie reads hers.
func TestAnOperatorCorrectsTheDecisionAndTheRepresentative(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	karims, orgs := correctionSetup(t, app, c, op)
	page := "/operateur/mesures/" + karims
	now := time.Now()
	const reason = "la décision nomme Marie Martin, numéro mal recopié"
	form := url.Values{"version": {"1"}, "reference": {"RG 26/12021"}, "jurisdiction": {"Tribunal judiciaire de Villeurbanne"},
		"decision_date": {day(now.AddDate(0, -2, -1))}, "rep_email": {c.marie.Email}, "role": {"curateur"},
		"valid_from": {day(now.AddDate(0, -1, -1))}, "valid_until": {day(now.AddDate(4, 0, 0))}, "areas": {"social"},
		"adj1_party": {"person"}, "adj1_area": {"argent"}, "adj1_action": {"manage"}, "adj1_decision": {"allowed"}, "reason": {reason}}
	code, _, h := op.do(http.MethodPost, page+"/modifier", form)
	if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "?fait=modifier") || strings.HasPrefix(h.Get("Location"), page+"?") {
		t.Fatalf("correction: %d to %q, want the new record's page", code, h.Get("Location"))
	}
	maries := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/operateur/mesures/"), "?fait=modifier")
	_, text, _ := op.do(http.MethodGet, h.Get("Location"), nil)
	plain := htmlUnescape(text)
	for _, want := range []string{"Marie Martin", "RG 26/12021", "Tribunal judiciaire de Villeurbanne", "Social, santé", "C’est fait\u00a0: la correction est enregistrée",
		"Motif\u00a0: " + reason, `href="` + page + `"`} {
		if !strings.Contains(plain, want) {
			t.Errorf("Marie's record lacks %q", want)
		}
	}
	_, text, _ = op.do(http.MethodGet, page, nil)
	plain = htmlUnescape(text)
	for _, want := range []string{"Arrêté", "Motif\u00a0: " + reason, "le représentant", `href="/operateur/mesures/` + maries + `"`} {
		if !strings.Contains(plain, want) {
			t.Errorf("Karim's ended record lacks %q", want)
		}
	}
	if strings.Contains(text, `href="`+page+`/corriger"`) {
		t.Error("the ended record still offers a correction")
	}
	if code, _, _ := op.do(http.MethodGet, page+"/corriger", nil); code != http.StatusNotFound {
		t.Errorf("the correction page of an ended record: %d, want 404", code)
	}
	if code, text, _ := op.do(http.MethodPost, page+"/modifier", withForm(form, "version", "2")); code != http.StatusConflict ||
		!strings.Contains(htmlUnescape(text), "Cette action n’est plus possible") {
		t.Errorf("correcting the ended record: %d, want 409 and the measure page saying why", code)
	}
	_, org := op.api(http.MethodGet, "/api/v1/representations/"+orgs, nil)
	if d := org["source"].(map[string]any)["decision"].(map[string]any); d["reference"] != "RG 26/12021" || org["version"] != 2.0 {
		t.Errorf("the organisation's record: %v v%v, want the corrected decision", d, org["version"])
	}
	var corrected int
	for _, e := range ofType(chainOf(t, app, c.ahmed.ID), mandates.EventUpdated) {
		if e.Detail != nil && e.Detail.Fields["reason"] == reason {
			corrected++
		}
	}
	if corrected != 2 {
		t.Errorf("Ahmed's journal holds %d corrections with the reason, want Karim's and the organisation's", corrected)
	}
	for _, tt := range []struct {
		who  *mandates.Person
		id   string
		want string
	}{{&c.karim, karims, "revoked"}, {&c.marie, maries, "active"}} {
		code, got := boAs(t, app, tt.who).api(http.MethodGet, "/api/v1/representations/"+tt.id, nil)
		hist, _ := got["history"].([]any)
		if code != http.StatusOK || got["status"] != tt.want || len(hist) == 0 || hist[len(hist)-1].(map[string]any)["detail"].(map[string]any)["reason"] != reason {
			t.Errorf("%s reads %d %v, want their record %s with the reason", tt.who.GivenNames, code, got["status"], tt.want)
		}
	}
}

func TestTheAPICorrectsAMeasure(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	karims, _ := correctionSetup(t, app, c, op)
	path := "/api/v1/representations/" + karims
	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
		says   string
	}{
		{"without a reason", map[string]any{"version": 1, "decision": map[string]any{"reference": "RG 26/12031"}}, 400, "invalid_request", "reason is missing"},
		{"to another registered decision", map[string]any{"version": 1, "reason": "erreur", "decision": map[string]any{"reference": "RG 26/13013"}}, 409, "already_exists", "decision"},
		{"with an unknown representative", map[string]any{"version": 1, "reason": "erreur", "representative": map[string]any{"person_email": "personne@example.fr"}}, 400, "invalid_request", "representative"},
		{"with a role of another measure", map[string]any{"version": 1, "reason": "erreur", "role": "tuteur"}, 400, "invalid_request", "role 1 is not allowed"},
		{"with an impossible decision date", map[string]any{"version": 1, "reason": "erreur", "decision": map[string]any{"date": "2026-02-30"}}, 400, "invalid_request", "decision_date"},
		{"from an older version", map[string]any{"version": 7, "reason": "erreur", "role": "subroge_curateur"}, 409, "conflict", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op.t = t
			code, out := op.api(http.MethodPatch, path, tt.body)
			if code != tt.status || out["error"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", code, out, tt.status, tt.code)
			}
			if desc, _ := out["error_description"].(string); !strings.Contains(desc, tt.says) {
				t.Errorf("description %q does not mention %q", desc, tt.says)
			}
		})
	}
	op.t = t
	code, _, h := op.do(http.MethodPatch, path, map[string]any{"version": 1, "reason": "la décision nomme Marie Martin",
		"representative": map[string]any{"person_email": c.marie.Email}, "decision": map[string]any{"reference": "RG 26/12031", "jurisdiction": "Tribunal judiciaire de Bron"}})
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Location"), "/api/v1/representations/") || h.Get("Location") == path {
		t.Fatalf("correct the representative: %d, Location %q", code, h.Get("Location"))
	}
	_, got := op.api(http.MethodGet, h.Get("Location"), nil)
	if rep := got["representative"].(map[string]any); rep["person_id"] != c.marie.ID || got["role"] != "curateur" ||
		got["source"].(map[string]any)["decision"].(map[string]any)["jurisdiction"] != "Tribunal judiciaire de Bron" {
		t.Errorf("the corrected representation: %v", got)
	}
	if _, old := op.api(http.MethodGet, path, nil); old["status"] != "revoked" {
		t.Errorf("Karim's representation is %v, want ended by the correction", old["status"])
	}
}
