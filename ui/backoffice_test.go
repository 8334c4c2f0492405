package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// boUser is one person's HTTP client against the test app, signed in or
// not; every answer it gets is checked to be no 500.
type boUser struct {
	t   *testing.T
	app *oidcApp
	c   *http.Client
}

func boAs(t *testing.T, app *oidcApp, p *mandates.Person) *boUser {
	t.Helper()
	c := browserClient(t)
	if p != nil {
		u, _ := url.Parse(app.srv.URL)
		var cookies []*http.Cookie
		for k, v := range sessionFor(t, app, *p) {
			cookies = append(cookies, &http.Cookie{Name: k, Value: v, Path: "/"})
		}
		c.Jar.SetCookies(u, cookies)
	}
	return &boUser{t: t, app: app, c: c}
}

// do sends a request; body is JSON unless it is url.Values (a form).
func (u *boUser) do(method, path string, body any) (int, string, http.Header) {
	u.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			u.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequestWithContext(u.t.Context(), method, u.app.srv.URL+path, rd)
	if err != nil {
		u.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := u.c.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	text := readBody(u.t, res)
	if res.StatusCode >= 500 {
		u.t.Fatalf("%s %s: %d\n%.2000s", method, path, res.StatusCode, text)
	}
	return res.StatusCode, text, res.Header
}

// api sends JSON and decodes the JSON answer.
func (u *boUser) api(method, path string, body any) (int, map[string]any) {
	u.t.Helper()
	code, text, h := u.do(method, path, body)
	if code == http.StatusNoContent {
		return code, nil
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		u.t.Fatalf("%s %s: %d with Content-Type %q, want JSON\n%.1000s", method, path, code, ct, text)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		u.t.Fatalf("%s %s: %v\n%s", method, path, err, text)
	}
	return code, out
}

// measureCount is how many measures the operator's search finds.
func (u *boUser) measureCount() int {
	u.t.Helper()
	code, out := u.api(http.MethodGet, "/api/v1/measures", nil)
	if code != http.StatusOK {
		u.t.Fatalf("search: %d %v", code, out)
	}
	return len(out["measures"].([]any))
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// curatelleBody is a valid registration of a curatelle renforcée of
// Ahmed by Karim, decision number ref.
func curatelleBody(c *cast, ref string) map[string]any {
	now := time.Now()
	return map[string]any{
		"kind": "curatelle_renforcee", "person_email": c.ahmed.Email,
		"representatives": []map[string]any{{"person_email": c.karim.Email, "role": "curateur"}},
		"valid_from":      day(now.AddDate(0, -1, 0)), "valid_until": day(now.AddDate(5, 0, 0)),
		"decision": map[string]any{"jurisdiction": "Tribunal judiciaire de Lyon", "date": day(now.AddDate(0, -2, 0)), "reference": ref},
	}
}

func with(body map[string]any, key string, v any) map[string]any {
	out := map[string]any{}
	for k, x := range body {
		out[k] = x
	}
	out[key] = v
	return out
}

func TestBackofficeAPIRefusesBadMeasuresAndStoresNothing(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	before := op.measureCount()
	good := curatelleBody(c, "RG 26/10001")
	decision := func(date string) map[string]any {
		return map[string]any{"jurisdiction": "Tribunal judiciaire de Lyon", "date": date, "reference": "RG 26/10001"}
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		says   string
	}{
		{"an impossible date is refused", with(good, "valid_until", "2031-02-30"), 400, "invalid_request", "valid_until"},
		{"a date in another format is refused", with(good, "valid_from", "01/03/2026"), 400, "invalid_request", "valid_from"},
		{"a decision date with a time is refused", with(good, "decision", decision("2026-01-02T10:00:00Z")), 400, "invalid_request", "decision_date"},
		{"an end before the start is refused", with(with(good, "valid_from", "2026-06-01"), "valid_until", "2026-05-01"), 400, "invalid_request", "valid_until must be after the start"},
		{"an end past the law's maximum is refused", with(with(good, "valid_from", "2026-06-01"), "valid_until", "2040-06-01"), 400, "invalid_request", "years"},
		{"an unknown kind is refused", with(good, "kind", "tutelle_magique"), 400, "invalid_request", "kind"},
		{"an aidant mandate is not a court measure", with(good, "kind", "aidant_mandate"), 400, "invalid_request", "kind"},
		{"an unknown area is refused", with(good, "procedure_areas", []string{"social", "lune"}), 400, "invalid_request", "procedure_areas"},
		{"an unknown role is refused", with(good, "representatives", []map[string]any{{"person_email": c.karim.Email, "role": "roi"}}), 400, "invalid_request", "role"},
		{"the represented person cannot represent herself", with(good, "representatives", []map[string]any{{"person_email": c.ahmed.Email, "role": "curateur"}}), 400, "invalid_request", "represented person"},
		{"an unknown email is a bad input", with(good, "person_email", "personne@example.fr"), 400, "invalid_request", "person"},
		{"no representative is refused", with(good, "representatives", []map[string]any{}), 400, "invalid_request", "representatives"},
		{"a sauvegarde needs listed acts", with(with(with(good, "kind", "sauvegarde_justice"), "valid_until", day(time.Now().AddDate(0, 6, 0))), "representatives", []map[string]any{{"person_email": c.karim.Email, "role": "mandataire_special"}}), 400, "invalid_request", "mandataire spécial"},
		{"malformed JSON is refused", `{"kind": "tutelle",`, 400, "invalid_request", "JSON"},
		{"an unknown field is refused", with(good, "colour", "blue"), 400, "invalid_request", "colour"},
		{"a field of the wrong type is refused", with(good, "valid_from", 20260101), 400, "invalid_request", "valid_from"},
		{"two JSON values are refused", `{} {}`, 400, "invalid_request", "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op.t = t
			code, out := op.api(http.MethodPost, "/api/v1/measures", tt.body)
			if code != tt.status || out["error"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", code, out, tt.status, tt.code)
			}
			if desc, _ := out["error_description"].(string); !strings.Contains(desc, tt.says) {
				t.Errorf("description %q does not mention %q", desc, tt.says)
			}
			if n := op.measureCount(); n != before {
				t.Errorf("a refused registration stored something: %d measures, want %d", n, before)
			}
		})
	}
}

func TestBackofficeAPIRegistersAMeasureOnceAndShowsIt(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	before := op.measureCount()
	body := curatelleBody(c, "RG 26/20002")
	body["representatives"] = []map[string]any{
		{"person_email": c.karim.Email, "role": "curateur"},
		{"organisation_id": c.org.ID, "role": "co_curateur", "procedure_areas": []string{"argent"}},
	}
	body["adjustments"] = []map[string]any{{"party": "person", "area": "argent", "action": "manage", "decision": "allowed", "note": "gérer son compte courant"}}
	code, out := op.api(http.MethodPost, "/api/v1/measures", body)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, out)
	}
	reps := out["representations"].([]any)
	if len(reps) != 2 {
		t.Fatalf("got %d representations, want one per representative", len(reps))
	}
	first := reps[0].(map[string]any)
	second := reps[1].(map[string]any)
	if first["role"] != "curateur" || second["role"] != "co_curateur" || first["status"] != "active" || first["version"] != 1.0 {
		t.Errorf("representations: %v / %v", first, second)
	}
	if rep := second["representative"].(map[string]any); rep["organisation_id"] != c.org.ID {
		t.Errorf("the co-curator is %v, want the organisation", rep)
	}
	if n := op.measureCount(); n != before+2 {
		t.Errorf("%d measures after registering, want %d", n, before+2)
	}

	// The same decision again, typed differently, is a duplicate.
	again := curatelleBody(c, "  rg 26/20002 ")
	again["decision"].(map[string]any)["jurisdiction"] = "tribunal judiciaire de  LYON"
	if code, out := op.api(http.MethodPost, "/api/v1/measures", again); code != http.StatusConflict || out["error"] != "already_exists" {
		t.Errorf("duplicate: %d %v, want 409 already_exists", code, out)
	}
	if n := op.measureCount(); n != before+2 {
		t.Errorf("the duplicate stored something: %d measures, want %d", n, before+2)
	}

	// One representation, with its history and its version as ETag.
	id := first["id"].(string)
	codeGet, text, h := op.do(http.MethodGet, "/api/v1/representations/"+id, nil)
	if codeGet != http.StatusOK || h.Get("ETag") != `"1"` {
		t.Fatalf("read: %d ETag %q\n%s", codeGet, h.Get("ETag"), text)
	}
	var got map[string]any
	json.Unmarshal([]byte(text), &got)
	hist := got["history"].([]any)
	if len(hist) != 1 || hist[0].(map[string]any)["type"] != "representation.created" || hist[0].(map[string]any)["actor_id"] != c.operator.ID {
		t.Errorf("history: %v", hist)
	}
	if src := got["source"].(map[string]any)["decision"].(map[string]any); src["reference"] != "RG 26/20002" || src["registered_by"] != c.operator.ID {
		t.Errorf("source: %v", src)
	}
	if adj := got["adjustments"].([]any); len(adj) != 1 || adj[0].(map[string]any)["note"] != "gérer son compte courant" {
		t.Errorf("adjustments: %v", adj)
	}

	// Search finds it by the person's name and by the decision number.
	for _, q := range []string{"benali", "RG 26/20002", c.ahmed.Email} {
		code, out := op.api(http.MethodGet, "/api/v1/measures?q="+url.QueryEscape(q), nil)
		if code != http.StatusOK || len(out["measures"].([]any)) != 2 {
			t.Errorf("search %q: %d, %d results, want 2", q, code, len(out["measures"].([]any)))
		}
	}
}

func TestBackofficeAPITwoOperatorsEditingTheSameVersion(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	second := newPerson(t, app, "Inès", "Moreau", "ines.moreau@example.fr", "")
	if err := app.store.GrantRole(t.Context(), second.ID, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	op1, op2 := boAs(t, app, &c.operator), boAs(t, app, &second)
	_, out := op1.api(http.MethodPost, "/api/v1/measures", curatelleBody(c, "RG 26/30003"))
	id := out["representations"].([]any)[0].(map[string]any)["id"].(string)
	path := "/api/v1/representations/" + id

	until := day(time.Now().AddDate(3, 0, 0))
	code, first := op1.api(http.MethodPatch, path, map[string]any{"version": 1, "valid_until": until, "reason": "jugement de prolongation"})
	if code != http.StatusOK || first["version"] != 2.0 {
		t.Fatalf("first edit: %d %v", code, first)
	}
	code, out = op2.api(http.MethodPatch, path, map[string]any{"version": 1, "procedure_areas": []string{"social"}})
	if code != http.StatusConflict || out["error"] != "conflict" {
		t.Fatalf("second edit with the same version: %d %v, want 409 conflict", code, out)
	}
	_, now := op2.api(http.MethodGet, path, nil)
	if !strings.HasPrefix(now["valid_until"].(string), until) || len(now["procedure_areas"].([]any)) != 0 || now["version"] != 2.0 {
		t.Errorf("the record lost the first change or took the second: %v", now)
	}
	// A status change with a stale version is a conflict too.
	if code, out := op2.api(http.MethodPost, path+"/suspend", map[string]any{"version": 1, "reason": "vérification"}); code != http.StatusConflict {
		t.Errorf("suspend with a stale version: %d %v", code, out)
	}
	for _, tt := range []struct {
		name string
		body any
	}{
		{"without a version", map[string]any{"valid_until": until}},
		{"with an invalid date", map[string]any{"version": 2, "valid_until": "2029-13-01"}},
		{"with an end before the start", map[string]any{"version": 2, "valid_until": "2000-01-01"}},
		{"with an unknown area", map[string]any{"version": 2, "procedure_areas": []string{"mars"}}},
		{"with an unknown field", map[string]any{"version": 2, "status": "active"}},
	} {
		if code, out := op2.api(http.MethodPatch, path, tt.body); code != http.StatusBadRequest {
			t.Errorf("edit %s: %d %v, want 400", tt.name, code, out)
		}
	}
	if _, again := op2.api(http.MethodGet, path, nil); again["version"] != 2.0 {
		t.Errorf("a refused edit changed the record: version %v", again["version"])
	}
	// Suspend, resume and end with the right versions; the history says so.
	for i, step := range []string{"suspend", "resume", "end"} {
		if code, out := op2.api(http.MethodPost, path+"/"+step, map[string]any{"version": 2 + i, "reason": "jugement"}); code != http.StatusOK {
			t.Fatalf("%s: %d %v", step, code, out)
		}
	}
	_, ended := op1.api(http.MethodGet, path, nil)
	if ended["status"] != "revoked" || len(ended["history"].([]any)) != 5 {
		t.Errorf("after the end: status %v, %d history entries", ended["status"], len(ended["history"].([]any)))
	}
	if code, out := op1.api(http.MethodPost, path+"/resume", map[string]any{"version": 5}); code != http.StatusConflict || out["error"] != "inactive" {
		t.Errorf("resuming an ended measure: %d %v", code, out)
	}
}

func TestBackofficeAPIAccess(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	anon, marie := boAs(t, app, nil), boAs(t, app, &c.marie)
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/measures"},
		{http.MethodPost, "/api/v1/measures"},
		{http.MethodGet, "/api/v1/organisations"},
		{http.MethodPost, "/api/v1/organisations/" + c.org.ID + "/members"},
		{http.MethodDelete, "/api/v1/organisations/" + c.org.ID + "/members/" + c.aidant.ID},
	} {
		code, out := anon.api(tt.method, tt.path, "{}")
		if code != http.StatusUnauthorized || out["error"] != "login_required" {
			t.Errorf("%s %s signed out: %d %v, want 401 login_required", tt.method, tt.path, code, out)
		}
	}
	if code, out := marie.api(http.MethodGet, "/api/v1/measures", nil); code != http.StatusForbidden || out["error"] != "access_denied" {
		t.Errorf("search by a tutor: %d %v, want 403", code, out)
	}
	if code, out := marie.api(http.MethodPost, "/api/v1/measures", curatelleBody(c, "RG 1")); code != http.StatusForbidden {
		t.Errorf("registration by a tutor: %d %v, want 403", code, out)
	}
	if code, out := marie.api(http.MethodPost, "/api/v1/organisations", map[string]any{"name": "X", "kind": "ccas", "admin_email": c.marie.Email}); code != http.StatusForbidden {
		t.Errorf("organisation by a tutor: %d %v, want 403", code, out)
	}
	// Not the administrator: no list of members, and no hint whether an
	// email has an account.
	for _, email := range []string{c.karim.Email, "personne@example.fr"} {
		if code, out := marie.api(http.MethodPost, "/api/v1/organisations/"+c.org.ID+"/members", map[string]any{"person_email": email, "role": "aidant"}); code != http.StatusForbidden {
			t.Errorf("habilitation by an outsider (%s): %d %v, want 403", email, code, out)
		}
	}
	if code, _ := marie.api(http.MethodGet, "/api/v1/organisations/"+c.org.ID+"/members", nil); code != http.StatusForbidden {
		t.Errorf("members for an outsider: %d, want 403", code)
	}
	if code, _ := marie.api(http.MethodGet, "/api/v1/representations/"+mandates.NewID(time.Now()), nil); code != http.StatusNotFound {
		t.Errorf("an unknown representation: %d, want 404", code)
	}
}

func TestBackofficeAPIOrganisationsAndMembers(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op, admin, aidant := boAs(t, app, &c.operator), boAs(t, app, &c.admin), boAs(t, app, &c.aidant)

	for _, tt := range []struct {
		name string
		body any
	}{
		{"without a name", map[string]any{"name": " ", "kind": "ccas", "admin_email": c.admin.Email}},
		{"of an unknown kind", map[string]any{"name": "CCAS de Bron", "kind": "club", "admin_email": c.admin.Email}},
		{"with an unknown area", map[string]any{"name": "CCAS de Bron", "kind": "ccas", "procedure_areas": []string{"lune"}, "admin_email": c.admin.Email}},
		{"with an unknown administrator", map[string]any{"name": "CCAS de Bron", "kind": "ccas", "admin_email": "personne@example.fr"}},
		{"without an administrator", map[string]any{"name": "CCAS de Bron", "kind": "ccas"}},
	} {
		maps.Copy(tt.body.(map[string]any), apiBronAddress())
		if code, out := op.api(http.MethodPost, "/api/v1/organisations", tt.body); code != http.StatusBadRequest {
			t.Errorf("organisation %s: %d %v, want 400", tt.name, code, out)
		}
	}
	_, list := op.api(http.MethodGet, "/api/v1/organisations", nil)
	if n := len(list["organisations"].([]any)); n != 1 {
		t.Fatalf("%d organisations after refused creations, want 1", n)
	}
	code, org := op.api(http.MethodPost, "/api/v1/organisations", map[string]any{"name": "Service MJPM du Rhône", "kind": "mjpm_service",
		"procedure_areas": []string{"argent", "social"}, "admin_email": c.admin.Email, "address_street": "35 rue de la Part-Dieu",
		"address_postal_code": "69003", "address_locality": "Lyon", "address_country": "France"})
	if code != http.StatusCreated || org["name"] != "Service MJPM du Rhône" {
		t.Fatalf("create: %d %v", code, org)
	}
	orgID := org["id"].(string)
	members := "/api/v1/organisations/" + orgID + "/members"

	// The admin habilitates the aidant, once.
	if code, out := admin.api(http.MethodPost, members, map[string]any{"person_email": c.aidant.Email, "role": "chef"}); code != http.StatusBadRequest {
		t.Errorf("unknown role: %d %v", code, out)
	}
	if code, out := admin.api(http.MethodPost, members, map[string]any{"person_email": "personne@example.fr", "role": "aidant"}); code != http.StatusBadRequest {
		t.Errorf("unknown email: %d %v", code, out)
	}
	// Karim has no second factor: he cannot be an aidant yet, and the
	// answer names the field and what to do.
	if code, out := admin.api(http.MethodPost, members, map[string]any{"person_email": c.karim.Email, "role": "aidant"}); code != http.StatusConflict ||
		out["error"] != "second_factor_not_enrolled" || !strings.Contains(fmt.Sprint(out["error_description"]), "person") {
		t.Errorf("an aidant without a second factor: %d %v, want 409 second_factor_not_enrolled naming the person", code, out)
	}
	if code, out := admin.api(http.MethodPost, members, map[string]any{"person_email": c.aidant.Email, "role": "aidant"}); code != http.StatusCreated || out["active"] != true {
		t.Fatalf("habilitate: %d %v", code, out)
	}
	if code, out := admin.api(http.MethodPost, members, map[string]any{"person_id": c.aidant.ID, "role": "aidant"}); code != http.StatusConflict {
		t.Errorf("habilitating twice: %d %v, want 409", code, out)
	}
	if code, _ := aidant.api(http.MethodGet, members, nil); code != http.StatusForbidden {
		t.Errorf("an aidant lists members: %d, want 403", code)
	}

	// A court measure held by the organisation: the admin names the delegate.
	body := curatelleBody(c, "RG 26/40004")
	body["representatives"] = []map[string]any{{"organisation_id": orgID, "role": "curateur"}}
	_, out := op.api(http.MethodPost, "/api/v1/measures", body)
	repID := out["representations"].([]any)[0].(map[string]any)["id"].(string)
	delegates := "/api/v1/representations/" + repID + "/delegates"
	if code, out := admin.api(http.MethodPut, delegates, map[string]any{"version": 1, "delegates": []string{c.marie.ID}}); code != http.StatusBadRequest {
		t.Errorf("a delegate who is no member: %d %v", code, out)
	}
	if code, out := admin.api(http.MethodPut, delegates, map[string]any{"version": 1, "delegates": []string{c.aidant.ID}}); code != http.StatusOK ||
		out["representative"].(map[string]any)["delegates"].([]any)[0] != c.aidant.ID {
		t.Fatalf("delegates: %d %v", code, out)
	}
	if code, out := admin.api(http.MethodPut, delegates, map[string]any{"version": 1, "delegates": []string{}}); code != http.StatusConflict {
		t.Errorf("delegates with a stale version: %d %v", code, out)
	}
	_, mand := admin.api(http.MethodGet, "/api/v1/organisations/"+orgID+"/mandates", nil)
	if m := mand["mandates"].([]any); len(m) != 1 || m[0].(map[string]any)["id"] != repID {
		t.Errorf("mandates: %v", mand)
	}

	// Withdrawn, the aidant stays in the list, inactive; the mandate stays.
	if code, _ := admin.api(http.MethodDelete, members+"/"+c.aidant.ID, nil); code != http.StatusNoContent {
		t.Fatalf("withdraw: %d", code)
	}
	if code, out := admin.api(http.MethodDelete, members+"/"+c.aidant.ID, nil); code != http.StatusConflict {
		t.Errorf("withdrawing twice: %d %v", code, out)
	}
	if code, out := admin.api(http.MethodDelete, members+"/"+c.admin.ID, nil); code != http.StatusForbidden {
		t.Errorf("an admin withdrawing themselves: %d %v", code, out)
	}
	_, ms := admin.api(http.MethodGet, members, nil)
	for _, m := range ms["members"].([]any) {
		m := m.(map[string]any)
		if m["person_id"] == c.aidant.ID && (m["active"] != false || m["withdrawn_at"] == nil) {
			t.Errorf("withdrawn member: %v", m)
		}
	}
	_, mand = admin.api(http.MethodGet, "/api/v1/organisations/"+orgID+"/mandates", nil)
	if len(mand["mandates"].([]any)) != 1 {
		t.Errorf("the mandate left with the aidant: %v", mand)
	}
}

// boForm is a valid registration form of a curatelle renforcée of Ahmed
// by Karim.
func boForm(c *cast, ref string) url.Values {
	now := time.Now()
	return url.Values{"kind": {"curatelle_renforcee"}, "person_email": {c.ahmed.Email},
		"rep1_email": {c.karim.Email}, "rep1_role": {"curateur"},
		"valid_from": {day(now.AddDate(0, -1, 0))}, "valid_until": {day(now.AddDate(5, 0, 0))},
		"jurisdiction": {"Tribunal judiciaire de Lyon"}, "decision_date": {day(now.AddDate(0, -2, 0))}, "reference": {ref}}
}

func withForm(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// invalidInput says whether the page marks the input with this id.
func invalidInput(page, id string) bool {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return false
	}
	end := strings.Index(page[i:], ">")
	return strings.Contains(page[i:i+end], `aria-invalid="true"`)
}

func TestBackofficeFormRefusesBadMeasuresAndKeepsWhatWasTyped(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	before := op.measureCount()
	good := boForm(c, "RG 26/50005")
	tests := []struct {
		name   string
		form   url.Values
		status int
		field  string
		says   string
	}{
		{"an impossible date", withForm(good, "valid_until", "2031-02-30"), 400, "valid_until", "La date de fin n’est pas une date valide"},
		{"a date in another format", withForm(good, "valid_from", "01/03/2026"), 400, "valid_from", "La date de début n’est pas une date valide"},
		{"an end before the start", withForm(good, "valid_from", "2026-06-01", "valid_until", "2026-05-01"), 400, "valid_until", "après la date de début"},
		{"an end past the law's maximum", withForm(good, "valid_from", "2026-06-01", "valid_until", "2040-06-01"), 400, "valid_until", "au plus 10 ans"},
		{"an unknown kind", withForm(good, "kind", "tutelle_magique"), 400, "kind", "Choisissez le type de mesure"},
		{"an unknown area", withForm(good, "areas", "lune"), 400, "area-papiers", "domaines de la liste"},
		{"a role of another measure", withForm(good, "rep1_role", "tuteur"), 400, "rep1_role", "ce rôle n’existe pas"},
		{"an unknown role", withForm(good, "rep1_role", "roi"), 400, "rep1_role", "choisissez un rôle"},
		{"the represented person as representative", withForm(good, "rep1_email", c.ahmed.Email), 400, "rep1_email", "propre représentant"},
		{"an unknown person", withForm(good, "person_email", "personne@example.fr"), 400, "person_email", "Aucun compte Relais"},
		{"a second representative by email and organisation", withForm(good, "rep2_email", c.marie.Email, "rep2_org", c.org.ID, "rep2_role", "co_curateur"), 400, "rep2_email", "pas les deux"},
		{"a sauvegarde without listed acts", withForm(good, "kind", "sauvegarde_justice", "rep1_role", "mandataire_special", "valid_until", day(time.Now().AddDate(0, 6, 0))), 400, "adj1_party", "mandataire spécial"},
		{"an adjustment without its act", withForm(good, "adj2_party", "person", "adj2_decision", "allowed"), 400, "adj2_action", "Changement 2"},
		{"a missing decision number", withForm(good, "reference", ""), 400, "reference", "numéro de la décision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op.t = t
			code, page, _ := op.do(http.MethodPost, "/operateur/mesures/nouvelle", tt.form)
			if code != tt.status {
				t.Fatalf("status %d, want %d", code, tt.status)
			}
			if !strings.Contains(page, `role="alert"`) || !strings.Contains(page, `href="#`+tt.field+`"`) {
				t.Errorf("no error summary linking to %s", tt.field)
			}
			if !strings.Contains(htmlUnescape(page), tt.says) {
				t.Errorf("the page does not say %q; its alert:\n%s", tt.says, between(page, `role="alert"`, "</div>"))
			}
			if !invalidInput(page, tt.field) {
				t.Errorf("input %s is not marked aria-invalid", tt.field)
			}
			for _, typed := range []string{tt.form.Get("jurisdiction"), tt.form.Get("person_email"), tt.form.Get("valid_from")} {
				if typed != "" && !strings.Contains(htmlUnescape(page), `value="`+typed+`"`) {
					t.Errorf("the form lost %q", typed)
				}
			}
			if n := op.measureCount(); n != before {
				t.Errorf("a refused form stored something: %d measures, want %d", n, before)
			}
		})
	}
	op.t = t

	code, _, h := op.do(http.MethodPost, "/operateur/mesures/nouvelle", good)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/operateur/mesures/") {
		t.Fatalf("register: %d to %q", code, h.Get("Location"))
	}
	code, page, _ := op.do(http.MethodGet, h.Get("Location"), nil)
	if code != http.StatusOK || !strings.Contains(page, "Ahmed Benali") || !strings.Contains(page, "RG 26/50005") || !strings.Contains(page, `role="status"`) {
		t.Errorf("measure page: %d\n%.3000s", code, page)
	}
	code, page, _ = op.do(http.MethodPost, "/operateur/mesures/nouvelle", good)
	if code != http.StatusConflict || !strings.Contains(htmlUnescape(page), "déjà enregistrée") || !invalidInput(page, "reference") {
		t.Errorf("the same decision again: %d", code)
	}
	if n := op.measureCount(); n != before+1 {
		t.Errorf("%d measures, want %d", n, before+1)
	}
}

func TestBackofficeFormConflictKeepsTheOperatorsInput(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	second := newPerson(t, app, "Inès", "Moreau", "ines.moreau@example.fr", "")
	if err := app.store.GrantRole(t.Context(), second.ID, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	op1, op2 := boAs(t, app, &c.operator), boAs(t, app, &second)
	_, out := op1.api(http.MethodPost, "/api/v1/measures", curatelleBody(c, "RG 26/60006"))
	id := out["representations"].([]any)[0].(map[string]any)["id"].(string)
	page := "/operateur/mesures/" + id

	// Both operators open the page at version 1.
	for _, u := range []*boUser{op1, op2} {
		if code, text, _ := u.do(http.MethodGet, page, nil); code != http.StatusOK || !strings.Contains(text, `name="version" value="1"`) {
			t.Fatalf("measure page: %d", code)
		}
	}
	first := day(time.Now().AddDate(2, 0, 0))
	code, _, h := op1.do(http.MethodPost, page+"/modifier", url.Values{"version": {"1"}, "valid_until": {first}, "areas": {"argent"}, "reason": {"jugement de prolongation"}})
	if code != http.StatusSeeOther || h.Get("Location") != page+"?fait=modifier" {
		t.Fatalf("first edit: %d %q", code, h.Get("Location"))
	}
	mine := day(time.Now().AddDate(4, 0, 0))
	code, text, _ := op2.do(http.MethodPost, page+"/modifier", url.Values{"version": {"1"}, "valid_until": {mine}, "areas": {"logement"}})
	if code != http.StatusConflict {
		t.Fatalf("second edit: %d, want 409", code)
	}
	plain := htmlUnescape(text)
	if !strings.Contains(plain, "Une autre personne a changé cette mesure") || !strings.Contains(text, `role="alert"`) {
		t.Error("the conflict page does not say what happened")
	}
	if !strings.Contains(text, `id="edit_until" name="valid_until" type="text" value="`+mine+`"`) ||
		!strings.Contains(text, `id="edit-area-logement" name="areas" value="logement" checked`) {
		t.Error("the conflict page lost what the second operator typed")
	}
	if !strings.Contains(text, `name="version" value="2"`) || !strings.Contains(plain, "Argent, impôts, consommation") {
		t.Error("the conflict page does not show the current record")
	}
	_, now := op1.api(http.MethodGet, "/api/v1/representations/"+id, nil)
	if !strings.HasPrefix(now["valid_until"].(string), first) || now["version"] != 2.0 {
		t.Errorf("the record does not hold the first change: %v", now)
	}
	// Stale status changes are conflicts too; a current one works.
	if code, text, _ := op2.do(http.MethodPost, page+"/pause", url.Values{"version": {"1"}, "reason": {"contrôle"}}); code != http.StatusConflict ||
		!strings.Contains(text, `value="contrôle"`) {
		t.Errorf("stale pause: %d", code)
	}
	if code, _, _ := op2.do(http.MethodPost, page+"/pause", url.Values{"version": {"2"}, "reason": {"contrôle"}}); code != http.StatusSeeOther {
		t.Errorf("pause: %d", code)
	}
	// Bad edits come back with the field marked.
	for _, tt := range []struct {
		name, until, says string
	}{
		{"an end before the start", "2000-01-01", "après la date de début"},
		{"an impossible date", "2030-02-31", "n’est pas une date valide"},
		{"no end", "", "Indiquez la date de fin"},
	} {
		code, text, _ := op2.do(http.MethodPost, page+"/modifier", url.Values{"version": {"3"}, "valid_until": {tt.until}})
		if code != http.StatusBadRequest || !invalidInput(text, "edit_until") || !strings.Contains(htmlUnescape(text), tt.says) {
			t.Errorf("edit with %s: %d", tt.name, code)
		}
	}
	if code, _, _ := op2.do(http.MethodPost, page+"/modifier", url.Values{"version": {"abc"}}); code != http.StatusBadRequest {
		t.Errorf("a version that is no number: %d", code)
	}
}

func TestBackofficePagesAreForOperatorsAndAdministrators(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	anon, marie, aidant, admin, op := boAs(t, app, nil), boAs(t, app, &c.marie), boAs(t, app, &c.aidant), boAs(t, app, &c.admin), boAs(t, app, &c.operator)
	_, out := op.api(http.MethodGet, "/api/v1/measures?q=Petit", nil)
	tutelle := out["measures"].([]any)[0].(map[string]any)["id"].(string)
	operatorPages := []string{"/operateur", "/operateur/mesures/nouvelle", "/operateur/structures", "/operateur/mesures/" + tutelle}
	for _, p := range operatorPages {
		code, _, h := anon.do(http.MethodGet, p, nil)
		login := "/login?" + url.Values{"return": {p}}.Encode()
		if code != http.StatusSeeOther || h.Get("Location") != login {
			t.Errorf("%s signed out: %d to %q, want the login page", p, code, h.Get("Location"))
		}
		for _, u := range []*boUser{marie, admin} {
			if code, text, _ := u.do(http.MethodGet, p, nil); code != http.StatusNotFound || strings.Contains(text, "opérateur") {
				t.Errorf("%s for a non-operator: %d, want the plain 404 page", p, code)
			}
		}
		if code, _, _ := op.do(http.MethodGet, p, nil); code != http.StatusOK {
			t.Errorf("%s for the operator: %d", p, code)
		}
	}
	if code, _, _ := marie.do(http.MethodPost, "/operateur/mesures/nouvelle", boForm(c, "RG 9")); code != http.StatusNotFound {
		t.Errorf("a tutor posting a measure: %d, want 404", code)
	}
	if code, _, _ := marie.do(http.MethodPost, "/operateur/mesures/"+tutelle+"/fin", url.Values{"version": {"1"}}); code != http.StatusNotFound {
		t.Errorf("a tutor ending a measure: %d, want 404", code)
	}
	if code, _, _ := op.do(http.MethodGet, "/operateur/mesures/"+mandates.NewID(time.Now()), nil); code != http.StatusNotFound {
		t.Errorf("an unknown measure: %d", code)
	}

	org := "/structure/" + c.org.ID
	for _, u := range []*boUser{marie, aidant} {
		if code, _, _ := u.do(http.MethodGet, org, nil); code != http.StatusNotFound {
			t.Errorf("organisation page for a non-admin: %d, want 404", code)
		}
		if code, _, _ := u.do(http.MethodPost, org+"/membres/"+c.aidant.ID+"/retirer", url.Values{}); code != http.StatusNotFound {
			t.Errorf("withdrawal by a non-admin: %d, want 404", code)
		}
	}
	for _, u := range []*boUser{admin, op} {
		if code, text, _ := u.do(http.MethodGet, org, nil); code != http.StatusOK || !strings.Contains(text, "Sophie Bernard") {
			t.Errorf("organisation page for its admin or an operator: %d", code)
		}
	}
	if code, _, _ := admin.do(http.MethodGet, "/structure/pas-un-id", nil); code != http.StatusNotFound {
		t.Errorf("organisation page with a bad id: %d", code)
	}
}

func TestBackofficeOrganisationForms(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op, admin := boAs(t, app, &c.operator), boAs(t, app, &c.admin)
	for _, tt := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"without a name", url.Values{"kind": {"ccas"}, "admin_email": {c.admin.Email}}, "name"},
		{"of an unknown kind", url.Values{"name": {"CCAS de Bron"}, "kind": {"club"}, "admin_email": {c.admin.Email}}, "org_kind"},
		{"with an unknown area", url.Values{"name": {"CCAS de Bron"}, "kind": {"ccas"}, "areas": {"lune"}, "admin_email": {c.admin.Email}}, "org-area-papiers"},
		{"with an unknown administrator", url.Values{"name": {"CCAS de Bron"}, "kind": {"ccas"}, "admin_email": {"personne@example.fr"}}, "admin_email"},
	} {
		maps.Copy(tt.form, formBronAddress())
		code, text, _ := op.do(http.MethodPost, "/operateur/structures", tt.form)
		if code != http.StatusBadRequest || !invalidInput(text, tt.field) || !strings.Contains(text, `role="alert"`) {
			t.Errorf("organisation %s: %d", tt.name, code)
		}
		if strings.Count(text, `<li class="card">`) != 1 {
			t.Errorf("organisation %s: the list is not the one organisation", tt.name)
		}
	}
	created := url.Values{"name": {"CCAS de Bron"}, "kind": {"ccas"}, "areas": {"social"}, "admin_email": {c.admin.Email}}
	maps.Copy(created, formBronAddress())
	code, _, h := op.do(http.MethodPost, "/operateur/structures", created)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/structure/") {
		t.Fatalf("create: %d %q", code, h.Get("Location"))
	}
	org := strings.TrimSuffix(h.Get("Location"), "?fait=creee")

	if code, text, _ := admin.do(http.MethodPost, org+"/membres", url.Values{"email": {"personne@example.fr"}, "role": {"aidant"}}); code != http.StatusBadRequest ||
		!invalidInput(text, "member_email") || !strings.Contains(text, `value="personne@example.fr"`) {
		t.Errorf("habilitating an unknown email: %d", code)
	}
	if code, text, _ := admin.do(http.MethodPost, org+"/membres", url.Values{"email": {c.karim.Email}, "role": {"chef"}}); code != http.StatusBadRequest || !invalidInput(text, "role-aidant") {
		t.Errorf("habilitating with an unknown role: %d", code)
	}
	// Karim has no second factor yet: the page says so at the field, and
	// what to do.
	code, refused, _ := admin.do(http.MethodPost, org+"/membres", url.Values{"email": {c.karim.Email}, "role": {"aidant"}})
	if code != http.StatusBadRequest || !invalidInput(refused, "member_email") || !strings.Contains(refused, `role="alert"`) ||
		!strings.Contains(htmlUnescape(refused), "Karim Benali n’a pas encore activé son code de confirmation") {
		t.Errorf("habilitating an aidant without a second factor: %d\n%s", code, between(htmlUnescape(refused), "<main", "</main>"))
	}
	app.enrolTOTPOf(t, c.karim.ID)
	if code, _, _ := admin.do(http.MethodPost, org+"/membres", url.Values{"email": {c.karim.Email}, "role": {"aidant"}}); code != http.StatusSeeOther {
		t.Fatalf("habilitate: %d", code)
	}
	if code, _, _ := admin.do(http.MethodPost, org+"/membres", url.Values{"email": {c.karim.Email}, "role": {"aidant"}}); code != http.StatusConflict {
		t.Errorf("habilitating twice: %d", code)
	}
	_, page, _ := admin.do(http.MethodGet, org, nil)
	if !strings.Contains(htmlUnescape(page), "Retirer l’habilitation de Karim Benali") || strings.Contains(htmlUnescape(page), "Retirer l’habilitation de Nadia Haddad") {
		t.Error("the page does not offer to withdraw the aidant, or offers the admin to withdraw herself")
	}
	if code, _, _ := admin.do(http.MethodPost, org+"/membres/"+c.karim.ID+"/retirer", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", code)
	}
	if code, _, _ := admin.do(http.MethodPost, org+"/membres/"+c.karim.ID+"/retirer", url.Values{}); code != http.StatusConflict {
		t.Errorf("withdrawing twice: %d", code)
	}
	_, page, _ = admin.do(http.MethodGet, org+"?fait=retire", nil)
	if !strings.Contains(htmlUnescape(page), "Habilitation retirée le") || strings.Contains(htmlUnescape(page), "Retirer l’habilitation de Karim Benali") {
		t.Error("the withdrawn aidant is not shown as withdrawn")
	}

	// Delegates of a measure the organisation holds.
	body := curatelleBody(c, "RG 26/70007")
	body["representatives"] = []map[string]any{{"organisation_id": strings.TrimPrefix(org, "/structure/"), "role": "curateur"}}
	_, out := op.api(http.MethodPost, "/api/v1/measures", body)
	repID := out["representations"].([]any)[0].(map[string]any)["id"].(string)
	delegates := org + "/mandats/" + repID + "/delegues"
	if code, _, _ := admin.do(http.MethodPost, delegates, url.Values{"version": {"1"}, "delegate": {c.admin.ID}}); code != http.StatusSeeOther {
		t.Fatalf("delegates: %d", code)
	}
	code, text, _ := admin.do(http.MethodPost, delegates, url.Values{"version": {"1"}})
	if code != http.StatusConflict || !strings.Contains(htmlUnescape(text), "Quelqu’un a changé ce mandat") {
		t.Errorf("stale delegates: %d", code)
	}
	if code, _, _ := admin.do(http.MethodPost, "/structure/"+c.org.ID+"/mandats/"+repID+"/delegues", url.Values{"version": {"2"}}); code != http.StatusNotFound {
		t.Errorf("delegates through another organisation's page: %d, want 404", code)
	}
	_, now := op.api(http.MethodGet, "/api/v1/representations/"+repID, nil)
	if d := now["representative"].(map[string]any)["delegates"].([]any); len(d) != 1 || d[0] != c.admin.ID || now["version"] != 2.0 {
		t.Errorf("delegates stored: %v", now["representative"])
	}
}

func TestBackofficeMeasurePageActivatesAndEnds(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	body := curatelleBody(c, "MPF 2026-001")
	body["kind"], body["valid_until"] = "mandat_protection_future", ""
	body["representatives"] = []map[string]any{{"person_email": c.karim.Email, "role": "mandataire"}}
	code, out := op.api(http.MethodPost, "/api/v1/measures", body)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, out)
	}
	rep := out["representations"].([]any)[0].(map[string]any)
	if rep["status"] != "pending" {
		t.Fatalf("a mandat de protection future starts %v, want pending", rep["status"])
	}
	page := "/operateur/mesures/" + rep["id"].(string)
	_, text, _ := op.do(http.MethodGet, page, nil)
	if !strings.Contains(text, `action="`+page+`/activer"`) || strings.Contains(text, `action="`+page+`/pause"`) {
		t.Error("a pending mandate should offer activation, not a pause")
	}
	if code, _, h := op.do(http.MethodPost, page+"/activer", url.Values{"version": {"1"}}); code != http.StatusSeeOther || h.Get("Location") != page+"?fait=activer" {
		t.Fatalf("activate: %d %q", code, h.Get("Location"))
	}
	if code, text, _ := op.do(http.MethodPost, page+"/activer", url.Values{"version": {"2"}}); code != http.StatusConflict ||
		!strings.Contains(htmlUnescape(text), "n’est plus possible") {
		t.Errorf("activating twice: %d", code)
	}
	if code, _, _ := op.do(http.MethodPost, page+"/fin", url.Values{"version": {"2"}, "reason": {"jugement de mainlevée"}}); code != http.StatusSeeOther {
		t.Fatalf("end: %d", code)
	}
	_, text, _ = op.do(http.MethodGet, page+"?fait=fin", nil)
	plain := htmlUnescape(text)
	for _, want := range []string{"Cette mesure est arrêtée", "mise en vigueur par Olivier Roux", "fin enregistrée par Olivier Roux", "Motif\u00a0: jugement de mainlevée", "Arrêté"} {
		if !strings.Contains(plain, want) {
			t.Errorf("the ended measure's page lacks %q", want)
		}
	}
	if strings.Contains(text, `action="`+page+`/modifier"`) {
		t.Error("an ended measure still offers to edit it")
	}
}
