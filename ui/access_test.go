package ui_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// accessWorld is the demo's four cases on the test app: Jeanne under
// tutelle by Marie, Paul under curatelle renforcée by an MJPM service that
// names Lucie, Yvette helped by a France Services desk where Sophie is an
// aidant (social, papiers), Fatima who gave Ahmed a proxy (consult and
// manage; social, logement, argent). Sites name each person by the sub
// Relais gave them.
type accessWorld struct {
	app                                                  *oidcApp
	caf                                                  oauth.Client
	impotsSecret                                         string
	jeanne, marie, paul, lucie, yvette, sophie, fatima   mandates.Person
	ahmed, karim                                         mandates.Person
	subs                                                 map[string]string // person id → sub at caf
	mjpm, desk                                           string
	tutelle, curatelle, aidantMandate, proxy, outsiderID string
}

func newAccessWorld(t *testing.T) *accessWorld {
	t.Helper()
	app := newOIDCApp(t)
	ctx := t.Context()
	w := &accessWorld{app: app, subs: map[string]string{}}
	w.jeanne = newPerson(t, app, "Jeanne", "Petit", "jeanne.petit@example.fr", "")
	w.marie = newPerson(t, app, "Marie", "Martin", "marie.martin@example.fr", "")
	w.paul = newPerson(t, app, "Paul", "Durand", "paul.durand@example.fr", "")
	w.lucie = newPerson(t, app, "Lucie", "Moreau", "lucie.moreau@example.fr", "")
	w.yvette = newPerson(t, app, "Yvette", "Garnier", "yvette.garnier@example.fr", "")
	w.sophie = newPerson(t, app, "Sophie", "Bernard", "sophie.bernard@example.fr", "")
	w.fatima = newPerson(t, app, "Fatima", "Benali", "fatima.benali@example.fr", "")
	w.ahmed = newPerson(t, app, "Ahmed", "Benali", "ahmed.benali@example.fr", "")
	w.karim = newPerson(t, app, "Karim", "Benali", "karim.benali@example.fr", "")
	op := newPerson(t, app, "Olivier", "Roux", "olivier.roux@example.fr", "")
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, o := range []struct {
		id   *string
		name string
		kind mandates.OrganisationKind
		who  string
	}{{&w.mjpm, "Service mandataire Entraide Nord", mandates.OrgMJPMService, w.lucie.ID},
		{&w.desk, "France Services Nantes Bellevue", mandates.OrgFranceServices, w.sophie.ID}} {
		*o.id = mandates.NewID(now)
		if err := app.store.CreateOrganisation(ctx, mandates.Organisation{ID: *o.id, Name: o.name, Kind: o.kind, CreatedBy: op.ID}); err != nil {
			t.Fatal(err)
		}
		if err := app.store.SaveMembership(ctx, mandates.Membership{OrganisationID: *o.id, PersonID: o.who, Role: mandates.MemberAidant,
			Active: true, HabilitatedBy: op.ID, HabilitatedAt: now}); err != nil {
			t.Fatal(err)
		}
		// Professionals act for an organisation only with a second factor.
		if err := app.store.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: o.who, Secret: []byte("sealed"), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := app.store.ConfirmTOTP(ctx, o.who, []byte("sealed"), 1, now, nil); err != nil {
			t.Fatal(err)
		}
	}
	decision := func(ref string) mandates.Source {
		return mandates.Source{Decision: &mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -2, 0),
			Reference: ref, RegisteredBy: op.ID, RegisteredAt: now}}
	}
	reps := []mandates.Representation{
		{ID: mandates.NewID(now), Kind: mandates.Tutelle, PersonID: w.jeanne.ID, Representative: mandates.Representative{PersonID: w.marie.ID},
			Role: mandates.RoleTuteur, ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0), Status: mandates.StatusActive,
			Source: decision("RG 26/1")},
		{ID: mandates.NewID(now), Kind: mandates.CuratelleRenforcee, PersonID: w.paul.ID,
			Representative: mandates.Representative{OrganisationID: w.mjpm, Delegates: []string{w.lucie.ID}}, Role: mandates.RoleCurateur,
			ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0), Status: mandates.StatusActive, Source: decision("RG 26/2")},
		{ID: mandates.NewID(now), Kind: mandates.AidantMandate, PersonID: w.yvette.ID, Representative: mandates.Representative{OrganisationID: w.desk},
			Role: mandates.RoleAidant, Areas: []mandates.Area{"papiers", "social"}, ValidFrom: now, ValidUntil: mandates.TwelveMonth.End(now),
			Status: mandates.StatusActive, Source: mandates.Source{Consent: &mandates.ConsentRecord{Method: mandates.ConsentInPersonAttestation,
				GivenAt: now, WitnessID: w.sophie.ID}}},
		{ID: mandates.NewID(now), Kind: mandates.Proxy, PersonID: w.fatima.ID, Representative: mandates.Representative{PersonID: w.ahmed.ID},
			Role: mandates.RoleProxyHolder, Areas: []mandates.Area{"social", "logement", "argent"}, Granted: []mandates.Action{mandates.Consult, mandates.Manage},
			ValidFrom: now, ValidUntil: mandates.SixMonths.End(now), Status: mandates.StatusActive,
			Source: mandates.Source{Consent: &mandates.ConsentRecord{Method: mandates.ConsentOwnAccount, GivenAt: now, AcceptedAt: now}}},
	}
	for _, r := range reps {
		if err := app.store.CreateRepresentation(ctx, r, mandates.Change{Seq: 1, At: now, ActorID: op.ID, Type: mandates.EventCreated, To: r.Status}); err != nil {
			t.Fatal(err)
		}
	}
	w.tutelle, w.curatelle, w.aidantMandate, w.proxy = reps[0].ID, reps[1].ID, reps[2].ID, reps[3].ID
	var err error
	if w.caf, err = app.store.Client(ctx, "caf"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []mandates.Person{w.jeanne, w.marie, w.paul, w.lucie, w.yvette, w.sophie, w.fatima, w.ahmed, w.karim} {
		sub := app.provider.Subject(w.caf, p.ID)
		if err := app.store.SaveSubject(ctx, "caf.example.fr", sub, p.ID); err != nil {
			t.Fatal(err)
		}
		w.subs[p.ID] = sub
	}
	// A second site, for money matters only.
	var hash string
	w.impotsSecret, hash = oauth.NewClientSecret()
	if err := app.store.CreateClient(ctx, oauth.Client{ID: "impots", Name: "Impôts", RedirectURIs: []string{"http://127.0.0.1/impots"},
		Scopes: []string{"openid"}, GrantTypes: []string{"authorization_code"}, SecretHash: hash, SectorIdentifier: "impots.example.fr",
		ProcedureAreas: []string{"argent"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// call posts body to path as client id with secret (HTTP Basic); an empty
// id sends no authentication.
func (w *accessWorld) call(t *testing.T, method, path, id, secret string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, w.app.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	m := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, res.Header, m
}

func (w *accessWorld) question(actor, person mandates.Person, action, area string) map[string]any {
	return map[string]any{
		"subject":  map[string]any{"type": "user", "id": w.subs[actor.ID]},
		"resource": map[string]any{"type": "account", "id": w.subs[person.ID], "properties": map[string]any{"procedure_area": area}},
		"action":   map[string]any{"name": action},
	}
}

func (w *accessWorld) evaluate(t *testing.T, body any) (int, map[string]any) {
	t.Helper()
	code, _, m := w.call(t, http.MethodPost, "/access/v1/evaluation", "caf", w.app.secret, body)
	return code, m
}

func answerOf(m map[string]any) (bool, string) {
	d, _ := m["decision"].(bool)
	ctx, _ := m["context"].(map[string]any)
	a, _ := ctx["answer"].(string)
	return d, a
}

// TestAccessEvaluationMatchesPolicy: each demo case, by the representative
// and by the person, for each action, answers what the default policy
// table of DESIGN.md §3 says.
func TestAccessEvaluationMatchesPolicy(t *testing.T) {
	w := newAccessWorld(t)
	tests := []struct {
		name          string
		actor, person mandates.Person
		rep           string
		want          [4]string // consult, manage, dispose, personal
	}{
		{"tutelle: the tutor", w.marie, w.jeanne, w.tutelle, [4]string{"allowed", "allowed", "allowed", "no"}},
		{"tutelle: the person", w.jeanne, w.jeanne, w.tutelle, [4]string{"allowed", "no", "no", "allowed"}},
		{"curatelle renforcée: the service's named delegate", w.lucie, w.paul, w.curatelle, [4]string{"allowed", "allowed", "cosign", "no"}},
		{"curatelle renforcée: the person", w.paul, w.paul, w.curatelle, [4]string{"allowed", "cosign", "cosign", "allowed"}},
		{"aidant mandate: the desk's aidant", w.sophie, w.yvette, w.aidantMandate, [4]string{"allowed", "allowed", "no", "no"}},
		{"aidant mandate: the person, unchanged", w.yvette, w.yvette, "", [4]string{"allowed", "allowed", "allowed", "allowed"}},
		{"proxy: the trusted son", w.ahmed, w.fatima, w.proxy, [4]string{"allowed", "allowed", "no", "no"}},
		{"proxy: the person, unchanged", w.fatima, w.fatima, "", [4]string{"allowed", "allowed", "allowed", "allowed"}},
		{"someone without any representation", w.karim, w.jeanne, "", [4]string{"no", "no", "no", "no"}},
	}
	for _, tt := range tests {
		for i, action := range []string{"consult", "manage", "dispose", "personal"} {
			t.Run(tt.name+" "+action, func(t *testing.T) {
				code, m := w.evaluate(t, w.question(tt.actor, tt.person, action, "social"))
				if code != http.StatusOK {
					t.Fatalf("%d %v", code, m)
				}
				decision, answer := answerOf(m)
				if answer != tt.want[i] || decision != (tt.want[i] == "allowed") {
					t.Errorf("decision %v, answer %q; want %q", decision, answer, tt.want[i])
				}
				ctx := m["context"].(map[string]any)
				reason, _ := ctx["reason"].(map[string]any)
				if reason["fr"] == "" || reason["en"] == "" || reason["fr"] == nil || reason["en"] == nil {
					t.Errorf("no reason in both languages: %v", ctx)
				}
				rep, _ := ctx["representation"].(map[string]any)
				if tt.rep != "" && tt.want[i] != "no" && action != "personal" && (rep == nil || rep["id"] != tt.rep || rep["kind"] == nil || rep["valid_until"] == nil) {
					t.Errorf("representation %v, want id %s with kind and valid_until", rep, tt.rep)
				}
				cs, _ := ctx["cosignature"].(map[string]any)
				if (answer == "cosign") != (cs != nil) {
					t.Errorf("cosignature context %v for answer %s", cs, answer)
				}
				if cs != nil && (cs["endpoint"] != w.app.srv.URL+"/access/v1/cosignatures" || cs["agreement_of"] == nil) {
					t.Errorf("cosignature context %v", cs)
				}
			})
		}
	}
}

// TestAccessEvaluationBadInput: every malformed or unauthenticated request
// gets the protocol's error, never a 500; a decision false is not one.
func TestAccessEvaluationBadInput(t *testing.T) {
	w := newAccessWorld(t)
	good := w.question(w.marie, w.jeanne, "manage", "social")
	with := func(change func(q map[string]any)) map[string]any {
		raw, _ := json.Marshal(good)
		var q map[string]any
		_ = json.Unmarshal(raw, &q)
		change(q)
		return q
	}
	tests := []struct {
		name         string
		id, secret   string
		body         any
		status       int
		code         string
		authenticate bool
	}{
		{"malformed JSON", "caf", w.app.secret, `{"subject": `, 400, "invalid_request", false},
		{"a JSON array", "caf", w.app.secret, `[]`, 400, "invalid_request", false},
		{"two JSON objects", "caf", w.app.secret, `{} {}`, 400, "invalid_request", false},
		{"an unknown action", "caf", w.app.secret, with(func(q map[string]any) { q["action"] = map[string]any{"name": "sell"} }), 400, "invalid_request", false},
		{"no action", "caf", w.app.secret, with(func(q map[string]any) { delete(q, "action") }), 400, "invalid_request", false},
		{"an unknown area", "caf", w.app.secret, with(func(q map[string]any) {
			q["resource"].(map[string]any)["properties"] = map[string]any{"procedure_area": "mars"}
		}), 400, "invalid_request", false},
		{"no area", "caf", w.app.secret, with(func(q map[string]any) { delete(q["resource"].(map[string]any), "properties") }), 400, "invalid_request", false},
		{"an area that is not a string", "caf", w.app.secret, with(func(q map[string]any) {
			q["resource"].(map[string]any)["properties"] = map[string]any{"procedure_area": 3}
		}), 400, "invalid_request", false},
		{"an unknown subject", "caf", w.app.secret, with(func(q map[string]any) { q["subject"].(map[string]any)["id"] = "nobody" }), 400, "invalid_request", false},
		{"a person's local id instead of the sub", "caf", w.app.secret, with(func(q map[string]any) { q["resource"].(map[string]any)["id"] = w.jeanne.ID }), 400, "invalid_request", false},
		{"a subject of another type", "caf", w.app.secret, with(func(q map[string]any) { q["subject"].(map[string]any)["type"] = "group" }), 400, "invalid_request", false},
		{"a malformed co-signature id", "caf", w.app.secret, with(func(q map[string]any) { q["context"] = map[string]any{"cosignature_id": "x"} }), 400, "invalid_request", false},
		{"no client authentication", "", "", good, 401, "invalid_client", true},
		{"a wrong secret", "caf", "wrong", good, 401, "invalid_client", true},
		{"an unknown client", "nobody", "secret", good, 401, "invalid_client", true},
		{"no authentication and malformed JSON", "", "", `{`, 401, "invalid_client", true},
		// The subs are caf's: impots, of another sector, never received them.
		{"another site's subs", "impots", w.impotsSecret, good, 400, "invalid_request", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, m := w.call(t, http.MethodPost, "/access/v1/evaluation", tt.id, tt.secret, tt.body)
			if code != tt.status || m["error"] != tt.code {
				t.Fatalf("%d %v, want %d %s", code, m, tt.status, tt.code)
			}
			if desc, _ := m["error_description"].(string); desc == "" {
				t.Errorf("no error_description: %v", m)
			}
			if tt.authenticate && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without WWW-Authenticate: %v", h)
			}
		})
	}

	t.Run("an area outside the site's registered procedure areas", func(t *testing.T) {
		sub := w.app.provider.Subject(oauth.Client{ID: "impots", SectorIdentifier: "impots.example.fr"}, w.jeanne.ID)
		if err := w.app.store.SaveSubject(t.Context(), "impots.example.fr", sub, w.jeanne.ID); err != nil {
			t.Fatal(err)
		}
		q := map[string]any{"subject": map[string]any{"type": "user", "id": sub},
			"resource": map[string]any{"type": "account", "id": sub, "properties": map[string]any{"procedure_area": "social"}},
			"action":   map[string]any{"name": "consult"}}
		code, _, m := w.call(t, http.MethodPost, "/access/v1/evaluation", "impots", w.impotsSecret, q)
		if code != 400 || m["error"] != "invalid_request" {
			t.Errorf("social at a money site: %d %v", code, m)
		}
		q["resource"].(map[string]any)["properties"] = map[string]any{"procedure_area": "argent"}
		if code, _, m := w.call(t, http.MethodPost, "/access/v1/evaluation", "impots", w.impotsSecret, q); code != 200 {
			t.Errorf("argent at a money site: %d %v", code, m)
		}
	})
	t.Run("a GET is not an evaluation", func(t *testing.T) {
		res, err := http.Get(w.app.srv.URL + "/access/v1/evaluation")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", res.StatusCode)
		}
	})
}

// TestAccessEvaluations: the batch answers each item in order, items
// taking the request's defaults; a bad item answers false with its error.
func TestAccessEvaluations(t *testing.T) {
	w := newAccessWorld(t)
	body := map[string]any{
		"subject":  map[string]any{"type": "user", "id": w.subs[w.lucie.ID]},
		"resource": map[string]any{"type": "account", "id": w.subs[w.paul.ID], "properties": map[string]any{"procedure_area": "argent"}},
		"evaluations": []any{
			map[string]any{"action": map[string]any{"name": "consult"}},
			map[string]any{"action": map[string]any{"name": "dispose"}},
			map[string]any{"action": map[string]any{"name": "fly"}},
			map[string]any{"action": map[string]any{"name": "manage"}, "subject": map[string]any{"type": "user", "id": w.subs[w.karim.ID]}},
		},
	}
	code, _, m := w.call(t, http.MethodPost, "/access/v1/evaluations", "caf", w.app.secret, body)
	if code != 200 {
		t.Fatalf("%d %v", code, m)
	}
	items, _ := m["evaluations"].([]any)
	if len(items) != 4 {
		t.Fatalf("%d answers, want 4: %v", len(items), m)
	}
	for i, want := range []string{"allowed", "cosign", "", "no"} {
		item := items[i].(map[string]any)
		d, a := answerOf(item)
		if a != want || d != (want == "allowed") {
			t.Errorf("item %d: %v %q, want %q", i, d, a, want)
		}
	}
	if e, _ := items[2].(map[string]any)["context"].(map[string]any)["error"].(map[string]any); e == nil || e["status"] != 400.0 {
		t.Errorf("the bad item's error: %v", items[2])
	}
	body["options"] = map[string]any{"evaluations_semantic": "deny_on_first_deny"}
	if _, _, m := w.call(t, http.MethodPost, "/access/v1/evaluations", "caf", w.app.secret, body); len(m["evaluations"].([]any)) != 2 {
		t.Errorf("deny_on_first_deny: %v, want the first two", m)
	}
	body["options"] = map[string]any{"evaluations_semantic": "maybe"}
	if code, _, _ := w.call(t, http.MethodPost, "/access/v1/evaluations", "caf", w.app.secret, body); code != 400 {
		t.Errorf("unknown semantic: %d", code)
	}
	single := w.question(w.marie, w.jeanne, "manage", "social")
	if code, _, m := w.call(t, http.MethodPost, "/access/v1/evaluations", "caf", w.app.secret, single); code != 200 || m["decision"] != true {
		t.Errorf("without items, a single evaluation: %d %v", code, m)
	}
}

func TestAuthZENDiscovery(t *testing.T) {
	w := newAccessWorld(t)
	code, _, m := w.call(t, http.MethodGet, "/.well-known/authzen-configuration", "", "", nil)
	if code != 200 || m["policy_decision_point"] != w.app.srv.URL || m["access_evaluation_endpoint"] != w.app.srv.URL+"/access/v1/evaluation" ||
		m["access_evaluations_endpoint"] != w.app.srv.URL+"/access/v1/evaluations" {
		t.Errorf("%d %v", code, m)
	}
	_, _, doc := w.call(t, http.MethodGet, "/.well-known/openid-configuration", "", "", nil)
	if doc["access_evaluation_endpoint"] != w.app.srv.URL+"/access/v1/evaluation" {
		t.Errorf("discovery: %v", doc["access_evaluation_endpoint"])
	}
}

// openCosign opens a co-signature request for Paul's own dispose act.
func (w *accessWorld) openCosign(t *testing.T) string {
	t.Helper()
	body := w.question(w.paul, w.paul, "dispose", "argent")
	body["description"] = "Vendre la voiture Clio pour 3 000 euros"
	code, h, m := w.call(t, http.MethodPost, "/access/v1/cosignatures", "caf", w.app.secret, body)
	id, _ := m["id"].(string)
	if code != http.StatusCreated || m["status"] != "pending" || m["approve_url"] != w.app.srv.URL+"/espace/accords/"+id ||
		m["agreement_of"] != "representative" || !strings.HasSuffix(h.Get("Location"), "/access/v1/cosignatures/"+id) {
		t.Fatalf("open co-signature: %d %v", code, m)
	}
	return id
}

// approveByPage answers as a signed-in person through the page's form.
func (w *accessWorld) approveByPage(t *testing.T, p mandates.Person, id, answer string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, w.app.srv.URL+"/espace/accords/"+id,
		strings.NewReader(url.Values{"answer": {answer}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "relais_session", Value: sessionFor(t, w.app, p, "pwd", "otp")["relais_session"]})
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (w *accessWorld) evaluateWith(t *testing.T, id string) (bool, string) {
	t.Helper()
	q := w.question(w.paul, w.paul, "dispose", "argent")
	q["context"] = map[string]any{"cosignature_id": id}
	code, m := w.evaluate(t, q)
	if code != 200 {
		t.Fatalf("%d %v", code, m)
	}
	return answerOf(m)
}

// TestAnUnknownCosignatureIsAnsweredAsExpired: an id that names no request
// of the site (deleted a month after it expired unanswered, never made, or
// another site's) is answered as an expired request, the act still
// calling for an agreement; the GET of it answers 404.
func TestAnUnknownCosignatureIsAnsweredAsExpired(t *testing.T) {
	w := newAccessWorld(t)
	other := w.openCosign(t) // caf's: impots names it below
	expired := locales.Reason(mandates.Reason{Code: mandates.ReasonCosignExpired})
	for _, tc := range []struct {
		name, client, secret, id string
	}{
		{"an id that never was", "caf", w.app.secret, mandates.NewID(time.Now())},
		{"another site's request", "impots", w.impotsSecret, other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := w.question(w.paul, w.paul, "dispose", "argent")
			if tc.client == "impots" {
				// Paul as impots knows him, for impots's question to reach
				// the co-signature.
				sub := w.app.provider.Subject(oauth.Client{ID: "impots", SectorIdentifier: "impots.example.fr"}, w.paul.ID)
				if err := w.app.store.SaveSubject(t.Context(), "impots.example.fr", sub, w.paul.ID); err != nil {
					t.Fatal(err)
				}
				q["subject"] = map[string]any{"type": "user", "id": sub}
				q["resource"] = map[string]any{"type": "account", "id": sub, "properties": map[string]any{"procedure_area": "argent"}}
			}
			q["context"] = map[string]any{"cosignature_id": tc.id}
			code, _, m := w.call(t, http.MethodPost, "/access/v1/evaluation", tc.client, tc.secret, q)
			ctx, _ := m["context"].(map[string]any)
			reason, _ := ctx["reason"].(map[string]any)
			if d, a := answerOf(m); code != 200 || d || a != "cosign" || reason["en"] != expired.EN {
				t.Errorf("%d %v; want 200, false, cosign, the reason %q", code, m, expired.EN)
			}
			if code, _, m := w.call(t, http.MethodGet, "/access/v1/cosignatures/"+tc.id, tc.client, tc.secret, nil); code != 404 {
				t.Errorf("GET: %d %v, want 404", code, m)
			}
		})
	}
}

// TestCosignedAct: the site opens a request, the service's delegate agrees
// on her page, the evaluation of that act answers true once, then false;
// the wrong party and a second answer are refused.
func TestCosignedAct(t *testing.T) {
	w := newAccessWorld(t)
	id := w.openCosign(t)
	if code, _, m := w.call(t, http.MethodGet, "/access/v1/cosignatures/"+id, "impots", w.impotsSecret, nil); code != 404 {
		t.Errorf("another site reads the request: %d %v", code, m)
	}
	if code, _, m := w.call(t, http.MethodGet, "/access/v1/cosignatures/"+id, "caf", w.app.secret, nil); code != 200 || m["status"] != "pending" {
		t.Errorf("status: %d %v", code, m)
	}
	if d, a := w.evaluateWith(t, id); d || a != "cosign" {
		t.Errorf("before agreement: %v %s", d, a)
	}
	for _, p := range []mandates.Person{w.karim, w.paul, w.marie} {
		if code := w.approveByPage(t, p, id, "accept"); code != http.StatusNotFound {
			t.Errorf("%s approves: %d, want 404", p.GivenNames, code)
		}
	}
	if code := w.approveByPage(t, w.lucie, id, "accept"); code != http.StatusSeeOther {
		t.Fatalf("the delegate approves: %d", code)
	}
	if code := w.approveByPage(t, w.lucie, id, "accept"); code != http.StatusConflict {
		t.Errorf("approved twice: %d, want 409", code)
	}
	if code := w.approveByPage(t, w.lucie, id, "refuse"); code != http.StatusConflict {
		t.Errorf("refused after approval: %d, want 409", code)
	}
	if _, _, m := w.call(t, http.MethodGet, "/access/v1/cosignatures/"+id, "caf", w.app.secret, nil); m["status"] != "approved" {
		t.Errorf("status after approval: %v", m)
	}
	if d, a := w.evaluateWith(t, id); !d || a != "allowed" {
		t.Fatalf("after agreement: %v %s, want true", d, a)
	}
	if d, a := w.evaluateWith(t, id); d || a != "cosign" {
		t.Errorf("second evaluation: %v %s, want false", d, a)
	}
	if _, _, m := w.call(t, http.MethodGet, "/access/v1/cosignatures/"+id, "caf", w.app.secret, nil); m["status"] != "used" || m["used_at"] == nil {
		t.Errorf("status after use: %v", m)
	}

	// An act that needs no co-signature cannot have one.
	body := w.question(w.marie, w.jeanne, "manage", "social")
	body["description"] = "Déclarer un changement d’adresse"
	if code, _, m := w.call(t, http.MethodPost, "/access/v1/cosignatures", "caf", w.app.secret, body); code != 400 || m["error"] != "invalid_request" {
		t.Errorf("no co-signature needed: %d %v", code, m)
	}
	delete(body, "description")
	body = w.question(w.paul, w.paul, "dispose", "argent")
	if code, _, _ := w.call(t, http.MethodPost, "/access/v1/cosignatures", "caf", w.app.secret, body); code != 400 {
		t.Errorf("no description: %d", code)
	}
	if code, _, _ := w.call(t, http.MethodPost, "/access/v1/cosignatures", "", "", body); code != 401 {
		t.Errorf("no authentication: %d", code)
	}
}

// TestCosignedActConcurrent: of many evaluations of one approval at once,
// exactly one answers true.
func TestCosignedActConcurrent(t *testing.T) {
	w := newAccessWorld(t)
	id := w.openCosign(t)
	if code := w.approveByPage(t, w.lucie, id, "accept"); code != http.StatusSeeOther {
		t.Fatalf("approve: %d", code)
	}
	const n = 16
	var wg sync.WaitGroup
	results := make(chan bool, n)
	for range n {
		wg.Go(func() {
			q := w.question(w.paul, w.paul, "dispose", "argent")
			q["context"] = map[string]any{"cosignature_id": id}
			raw, _ := json.Marshal(q)
			req, _ := http.NewRequest(http.MethodPost, w.app.srv.URL+"/access/v1/evaluation", bytes.NewReader(raw))
			req.SetBasicAuth("caf", url.QueryEscape(w.app.secret))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			if res.StatusCode != 200 {
				t.Errorf("%d %v", res.StatusCode, m)
				return
			}
			d, _ := answerOf(m)
			results <- d
		})
	}
	wg.Wait()
	close(results)
	trues := 0
	for d := range results {
		if d {
			trues++
		}
	}
	if trues != 1 {
		t.Errorf("%d of %d concurrent evaluations answered true, want exactly 1", trues, n)
	}
}

// TestTheDelegateSeesAgreementsOnlyWithHerCode: the service's delegate,
// logged in with her password only, is not shown the agreement asked of
// her service (a professional act needs the second factor); her page says
// how to see it. With the code, she sees it.
func TestTheDelegateSeesAgreementsOnlyWithHerCode(t *testing.T) {
	w := newAccessWorld(t)
	id := w.openCosign(t)
	get := func(path string, amr ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.app.srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "relais_session", Value: sessionFor(t, w.app, w.lucie, amr...)["relais_session"]})
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, page := get("/espace/accords", "pwd")
	if code != http.StatusOK || strings.Contains(page, "/espace/accords/"+id) || !strings.Contains(page, "connectez-vous avec votre code") {
		t.Errorf("the list, password only: %d, the request listed or no word of the code:\n%s", code, page)
	}
	if code, _ := get("/espace/accords/"+id, "pwd"); code == http.StatusOK {
		t.Errorf("the request, password only: %d, want it withheld", code)
	}
	if code, page := get("/espace/accords", "pwd", "otp"); code != http.StatusOK || !strings.Contains(page, "/espace/accords/"+id) {
		t.Errorf("the list, with the code: %d, the request not listed", code)
	}
}
