package authz_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite"
)

// actingFlow is Marie, the tutor of the flow's person (Jeanne), at the caf
// site, on a provider that has the representation service: an operator
// narrows or widens the tutelle between a grant's issue and its uses.
type actingFlow struct {
	*flow
	service  *mandates.Service
	operator mandates.Actor
	repID    string
}

// newServiceFlow is a flow whose provider has the representation service.
func newServiceFlow(t *testing.T) *actingFlow {
	t.Helper()
	a := &actingFlow{}
	a.flow = newFlowStores(t, nil, func(st *sqlite.Store, s *authz.Stores) {
		a.service = mandates.NewService(st, mandatestest.Discard{}, mandates.ServiceConfig{})
		s.Delegation, s.Subjects = a.service, st
	})
	return a
}

func newActingFlow(t *testing.T, areas ...mandates.Area) *actingFlow {
	t.Helper()
	a := newServiceFlow(t)
	ctx := t.Context()
	now := time.Now().UTC()
	marie := mandates.Person{ID: mandates.NewID(now), GivenNames: "Marie", FamilyName: "Martin", BirthDate: mandates.Date(1968, 5, 2), Email: "marie@example.fr", Language: "fr"}
	olivier := mandates.Person{ID: mandates.NewID(now), GivenNames: "Olivier", FamilyName: "Roux", BirthDate: mandates.Date(1975, 9, 30), Email: "olivier@example.fr", Language: "fr"}
	for _, p := range []mandates.Person{marie, olivier} {
		if err := a.store.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.store.GrantRole(ctx, olivier.ID, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	a.operator = mandates.Actor{PersonID: olivier.ID}
	reps, err := a.service.RegisterMeasure(ctx, a.operator, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: a.person.ID,
		Representatives: []mandates.RepresentativeInput{{PersonID: marie.ID, Role: mandates.RoleTuteur}}, Areas: areas,
		ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00042"}})
	if err != nil {
		t.Fatal(err)
	}
	a.repID = reps[0].ID
	a.login = authz.Login{PersonID: marie.ID, AMR: []string{"pwd"}, RepresentationID: a.repID}
	return a
}

// edit is the operator correcting the measure, as PATCH
// /api/v1/representations/{id} does: change sets the new areas or
// adjustments on what the measure is now.
func (a *actingFlow) edit(t *testing.T, change func(*mandates.MeasureCorrection)) {
	t.Helper()
	cur, err := a.store.Representation(t.Context(), a.repID)
	if err != nil {
		t.Fatal(err)
	}
	e := mandates.CorrectionOf(&cur)
	e.Reason = "jugement rectificatif"
	change(&e)
	if _, err := a.service.CorrectMeasure(t.Context(), a.operator, a.repID, cur.Version, e); err != nil {
		t.Fatal(err)
	}
}

func narrowTo(areas ...mandates.Area) func(*mandates.MeasureCorrection) {
	return func(e *mandates.MeasureCorrection) { e.Areas = areas }
}

// tokens runs the code flow as Marie acting for Jeanne, asking for scopes
// and, when given, authorization details.
func (a *actingFlow) tokens(t *testing.T, details []authz.AuthorizationDetail, scopes ...string) *oauth2.Token {
	t.Helper()
	conf := a.oauth2Config(scopes...)
	verifier := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-123456")}
	if details != nil {
		b, _ := json.Marshal(details)
		opts = append(opts, oauth2.SetAuthURLParam("authorization_details", string(b)))
	}
	q := a.authorize(t, conf.AuthCodeURL("state-123456", opts...))
	if q.Get("code") == "" {
		t.Fatalf("authorization: %v", q)
	}
	tok, err := conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// userinfo asks the userinfo endpoint with an access token.
func (a *actingFlow) userinfo(t *testing.T, at string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// introspection is the whole introspection answer for a token.
func (a *actingFlow) introspection(t *testing.T, token string) map[string]any {
	t.Helper()
	code, m := postForm(t, a.flow, "/introspect", url.Values{"token": {token}})
	if code != http.StatusOK {
		t.Fatalf("introspect: %d %v", code, m)
	}
	return m
}

// repAreas and repActions read a representation claim, wherever it is.
func repAreas(claims map[string]any) []string {
	rep, _ := claims["representation"].(map[string]any)
	var out []string
	for _, a := range asList(rep["procedure_areas"]) {
		s, _ := a.(string)
		out = append(out, s)
	}
	return out
}

func repAction(claims map[string]any, action string) any {
	rep, _ := claims["representation"].(map[string]any)
	actions, _ := rep["actions"].(map[string]any)
	return actions[action]
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// detailsJSON is authorization details as JSON, to compare them whole.
func detailsJSON(t *testing.T, v any) string {
	t.Helper()
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var ds []authz.AuthorizationDetail
	if err := json.Unmarshal(b, &ds); err != nil {
		t.Fatalf("authorization details %s: %v", b, err)
	}
	b, _ = json.Marshal(ds)
	return string(b)
}

func claimsOfJWT(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	return decodeSegment(t, parts[1])
}

// DESIGN.md §4: an operator narrows Jeanne's tutelle to two areas after
// Marie's site got its tokens. The next refresh, and userinfo and
// introspection of the older access token, say what the tutelle allows
// now: argent, taken away, is gone from the representation and from the
// authorization details, dispose there with it.
func TestNarrowingTheRepresentationNarrowsRefreshUserinfoAndIntrospection(t *testing.T) {
	a := newActingFlow(t)
	details := []authz.AuthorizationDetail{
		{Type: authz.AuthorizationDetailType, Actions: []string{"consult", "manage", "dispose"}, ProcedureAreas: []string{"social", "argent"}},
		{Type: authz.AuthorizationDetailType, Actions: []string{"consult"}},
	}
	tok := a.tokens(t, details, "openid", "profile", "offline_access")
	if got := repAreas(claimsOfJWT(t, tok.AccessToken)); len(got) != len(mandates.Areas) {
		t.Fatalf("before the change, a general tutelle covers every area; the token says %v", got)
	}

	a.edit(t, narrowTo("social", "papiers"))

	wantAreas := []string{"papiers", "social"} // in the order of mandates.Areas
	wantDetails := `[{"type":"public_service_act","actions":["consult","manage","dispose"],"procedure_areas":["social"]},` +
		`{"type":"public_service_act","actions":["consult"],"procedure_areas":["papiers","social"]}]`
	// The older access token is still live until the refresh rotates the
	// grant: what it says is read again at each use.
	status, ui := a.userinfo(t, tok.AccessToken)
	if status != http.StatusOK || !slices.Equal(repAreas(ui), wantAreas) {
		t.Errorf("userinfo of the older token: %d, procedure_areas %v, want %v", status, repAreas(ui), wantAreas)
	}
	a.wantIntrospected(t, "older", tok.AccessToken, wantAreas, wantDetails)

	refreshed := refresh(t, a.flow, tok.RefreshToken)
	at := claimsOfJWT(t, refreshed.AccessToken)
	idClaims := claimsOfJWT(t, refreshed.Extra("id_token").(string))
	for name, claims := range map[string]map[string]any{"refreshed access token": at, "refreshed ID token": idClaims} {
		if got := repAreas(claims); !slices.Equal(got, wantAreas) {
			t.Errorf("%s: representation.procedure_areas %v, want %v", name, got, wantAreas)
		}
	}
	if got := detailsJSON(t, at["authorization_details"]); got != wantDetails {
		t.Errorf("refreshed access token: authorization_details %s, want %s", got, wantDetails)
	}
	if got := detailsJSON(t, refreshed.Extra("authorization_details")); got != wantDetails {
		t.Errorf("refresh response: authorization_details %s, want %s (RFC 9396 §7)", got, wantDetails)
	}
	a.wantIntrospected(t, "refreshed", refreshed.AccessToken, wantAreas, wantDetails)
}

// wantIntrospected checks what introspection says of a live token's
// representation and authorization details.
func (a *actingFlow) wantIntrospected(t *testing.T, name, token string, areas []string, details string) {
	t.Helper()
	m := a.introspection(t, token)
	if m["active"] != true || !slices.Equal(repAreas(m), areas) {
		t.Errorf("introspection of the %s token: %v, want active with procedure_areas %v", name, m, areas)
	}
	if got := detailsJSON(t, m["authorization_details"]); got != details {
		t.Errorf("introspection of the %s token: authorization_details %s, want %s", name, got, details)
	}
}

// An adjustment that takes consult away from the tutor everywhere leaves
// them nothing of the person's file: the identity scopes and the refresh
// token's offline_access go from the refreshed grant, and the
// representation claim says consult is refused.
func TestAnAdjustmentNarrowsTheScopeAndTheActions(t *testing.T) {
	a := newActingFlow(t)
	tok := a.tokens(t, nil, "openid", "profile", "offline_access")
	if s, _ := claimsOfJWT(t, tok.AccessToken)["scope"].(string); s != "openid profile offline_access" {
		t.Fatalf("scope before the change: %q", s)
	}
	a.edit(t, func(e *mandates.MeasureCorrection) {
		e.Adjustments = []mandates.Adjustment{{Party: mandates.PartyRepresentative, Action: mandates.Consult, Decision: mandates.No}}
	})
	status, ui := a.userinfo(t, tok.AccessToken)
	if status != http.StatusOK || ui["given_name"] != nil || repAction(ui, "consult") != "no" {
		t.Errorf("userinfo of the older token: %d %v, want no identity claims and consult no", status, ui)
	}
	if m := a.introspection(t, tok.AccessToken); m["scope"] != "openid" || repAction(m, "consult") != "no" {
		t.Errorf("introspection of the older token: %v, want scope openid and consult no", m)
	}
	// Without offline_access the grant is not refreshed again: the refresh
	// hands out no new refresh token, and the one it rotated is dead.
	code, body := postForm(t, a.flow, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if code != http.StatusOK || body["scope"] != "openid" || body["refresh_token"] != nil {
		t.Fatalf("refresh: %d %v, want scope openid and no refresh_token", code, body)
	}
	at := claimsOfJWT(t, body["access_token"].(string))
	if at["scope"] != "openid" || repAction(at, "consult") != "no" || repAction(at, "manage") != "allowed" {
		t.Errorf("refreshed access token: scope %v, actions consult %v manage %v; want scope openid, consult no, manage allowed",
			at["scope"], repAction(at, "consult"), repAction(at, "manage"))
	}
}

// Nothing widens an existing grant: the tutelle, narrow at issue, is
// widened to every area afterwards; the refreshed grant keeps to what was
// granted.
func TestWideningTheRepresentationDoesNotWidenTheGrant(t *testing.T) {
	a := newActingFlow(t, "social")
	details := []authz.AuthorizationDetail{{Type: authz.AuthorizationDetailType, Actions: []string{"consult", "manage"}, ProcedureAreas: []string{"social"}}}
	tok := a.tokens(t, details, "openid", "profile", "offline_access")

	a.edit(t, narrowTo()) // every area

	want := `[{"type":"public_service_act","actions":["consult","manage"],"procedure_areas":["social"]}]`
	refreshed := refresh(t, a.flow, tok.RefreshToken)
	at := claimsOfJWT(t, refreshed.AccessToken)
	if got := repAreas(at); !slices.Equal(got, []string{"social"}) {
		t.Errorf("refreshed access token: procedure_areas %v, want [social] as granted", got)
	}
	if got := detailsJSON(t, at["authorization_details"]); got != want {
		t.Errorf("refreshed access token: authorization_details %s, want %s", got, want)
	}
	if _, ui := a.userinfo(t, refreshed.AccessToken); !slices.Equal(repAreas(ui), []string{"social"}) {
		t.Errorf("userinfo: procedure_areas %v, want [social]", repAreas(ui))
	}
	// And a second refresh does not widen it either.
	again := claimsOfJWT(t, refresh(t, a.flow, refreshed.RefreshToken).AccessToken)
	if got := repAreas(again); !slices.Equal(got, []string{"social"}) {
		t.Errorf("second refresh: procedure_areas %v, want [social]", got)
	}
}

// When nothing the site asked for is left, the grant ends: refresh answers
// invalid_grant, the older access token is inactive and userinfo refuses
// it.
func TestAGrantWhoseDetailsAreAllTakenAwayEnds(t *testing.T) {
	a := newActingFlow(t)
	details := []authz.AuthorizationDetail{{Type: authz.AuthorizationDetailType, Actions: []string{"dispose"}, ProcedureAreas: []string{"argent"}}}
	tok := a.tokens(t, details, "openid", "offline_access")
	a.edit(t, narrowTo("social", "papiers"))

	if m := a.introspection(t, tok.AccessToken); m["active"] != false {
		t.Errorf("introspection: %v, want inactive", m)
	}
	if status, m := a.userinfo(t, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo: %d %v, want 401", status, m)
	}
	if _, err := refreshErr(a.flow, tok.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh: %v, want invalid_grant", err)
	}
}

// When an operator corrects the tutelle to name another tutor, Marie's
// grants end at once: the correction ends her representation (it is not
// handed to someone else), and every use checks it.
func TestACorrectedRepresentativeLosesAccessAtOnce(t *testing.T) {
	a := newActingFlow(t)
	tok := a.tokens(t, nil, "openid", "profile", "offline_access")
	if status, _ := a.userinfo(t, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("userinfo before the correction: %d", status)
	}
	paul := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Paul", FamilyName: "Durand", BirthDate: mandates.Date(1970, 1, 2),
		Email: "paul@example.fr", Language: "fr"}
	if err := a.store.CreatePerson(t.Context(), paul); err != nil {
		t.Fatal(err)
	}
	a.edit(t, func(e *mandates.MeasureCorrection) { e.Representative.PersonID = paul.ID })

	if m := a.introspection(t, tok.AccessToken); m["active"] != false {
		t.Errorf("introspection: %v, want inactive", m)
	}
	if status, m := a.userinfo(t, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo: %d %v, want 401", status, m)
	}
	if _, err := refreshErr(a.flow, tok.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh: %v, want invalid_grant", err)
	}
}

// allowExchange lets the caf site exchange tokens towards the tax
// office's API (RFC 8693).
func (a *actingFlow) allowExchange(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	_, hash := oauth.NewClientSecret()
	if err := a.store.CreateClient(ctx, oauth.Client{ID: "api-impots", Name: "API impots", RedirectURIs: []string{"https://impots.example.fr/cb"},
		Scopes: []string{"openid", "profile"}, GrantTypes: []string{"client_credentials"}, SecretHash: hash, SectorIdentifier: "impots.example.fr"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.UpdateClient(ctx, "caf", func(c *oauth.Client) error {
		c.GrantTypes = append(c.GrantTypes, authz.GrantTypeTokenExchange)
		c.ExchangeAudiences = []string{"api-impots"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func (a *actingFlow) exchange(t *testing.T, subject string, change func(url.Values)) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {authz.GrantTypeTokenExchange}, "subject_token": {subject},
		"subject_token_type": {authz.TokenTypeAccessToken}, "audience": {"api-impots"}, "scope": {"openid"}}
	if change != nil {
		change(form)
	}
	return postForm(t, a.flow, "/token", form)
}

// Token exchange only narrows (DESIGN.md §4): a subject token limited to
// consulting in social gives an exchanged token limited the same way, or
// less when the site asks for less or the representation now covers less;
// never more.
func TestTokenExchangeKeepsAndOnlyNarrowsTheAuthorizationDetails(t *testing.T) {
	a := newActingFlow(t)
	a.allowExchange(t)
	social := []authz.AuthorizationDetail{{Type: authz.AuthorizationDetailType, Actions: []string{"consult", "manage"}, ProcedureAreas: []string{"social", "argent"}}}
	subject := a.tokens(t, social, "openid").AccessToken
	asked := func(ds string) func(url.Values) { return func(f url.Values) { f.Set("authorization_details", ds) } }

	tests := []struct {
		name   string
		change func(url.Values)
		want   string
	}{
		{"without details, the subject token's are kept", nil,
			`[{"type":"public_service_act","actions":["consult","manage"],"procedure_areas":["social","argent"]}]`},
		{"asking for less narrows them",
			asked(`[{"type":"public_service_act","actions":["consult"],"procedure_areas":["social"]}]`),
			`[{"type":"public_service_act","actions":["consult"],"procedure_areas":["social"]}]`},
		{"asking for more with narrow keeps what the subject token has",
			asked(`[{"type":"public_service_act","actions":["consult","dispose"],"procedure_areas":["social","logement"],"narrow":true}]`),
			`[{"type":"public_service_act","actions":["consult"],"procedure_areas":["social"]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := a.exchange(t, subject, tt.change)
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %v", status, body)
			}
			if got := detailsJSON(t, body["authorization_details"]); got != tt.want {
				t.Errorf("exchange response: authorization_details %s, want %s", got, tt.want)
			}
			exchanged, _ := body["access_token"].(string)
			if amr := asList(claimsOfJWT(t, exchanged)["amr"]); len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("exchanged token: amr %v, want how the actor logged in ([pwd])", amr)
			}
			if got := detailsJSON(t, claimsOfJWT(t, exchanged)["authorization_details"]); got != tt.want {
				t.Errorf("exchanged token: authorization_details %s, want %s", got, tt.want)
			}
			if got := detailsJSON(t, a.introspection(t, exchanged)["authorization_details"]); got != tt.want {
				t.Errorf("introspection of the exchanged token: authorization_details %s, want %s", got, tt.want)
			}
		})
	}

	for name, ds := range map[string]string{
		"asking for more than the subject token": `[{"type":"public_service_act","actions":["dispose"],"procedure_areas":["social"]}]`,
		"asking for another area":                `[{"type":"public_service_act","actions":["consult"],"procedure_areas":["logement"]}]`,
		"details that are not JSON":              `[{"type":`,
	} {
		if status, body := a.exchange(t, subject, asked(ds)); status != http.StatusBadRequest || body["error"] != "invalid_authorization_details" {
			t.Errorf("%s: %d %v, want invalid_authorization_details", name, status, body)
		}
	}

	a.edit(t, narrowTo("social", "papiers"))
	status, body := a.exchange(t, subject, nil)
	want := `[{"type":"public_service_act","actions":["consult","manage"],"procedure_areas":["social"]}]`
	if got := detailsJSON(t, body["authorization_details"]); status != http.StatusOK || got != want {
		t.Errorf("after argent is taken away: %d, authorization_details %s, want %s", status, got, want)
	}
	if got := repAreas(claimsOfJWT(t, stringOr(body["access_token"]))); !slices.Equal(got, []string{"papiers", "social"}) {
		t.Errorf("after argent is taken away: the exchanged representation covers %v, want [papiers social]", got)
	}
}

func stringOr(v any) string {
	s, _ := v.(string)
	return s
}

// The person takes one area out of a proxy they gave: the holder's next
// refresh and userinfo no longer list it (DESIGN.md §4, the same as a
// measure narrowed by an operator).
func TestAnAreaWithdrawnFromAProxyNarrowsTheNextRefresh(t *testing.T) {
	a := newServiceFlow(t)
	ctx := t.Context()
	now := time.Now().UTC()
	karim := mandates.Person{ID: mandates.NewID(now), GivenNames: "Karim", FamilyName: "Benali", BirthDate: mandates.Date(1980, 1, 2),
		Email: "karim@example.fr", Language: "fr"}
	if err := a.store.CreatePerson(ctx, karim); err != nil {
		t.Fatal(err)
	}
	person := mandates.Actor{PersonID: a.person.ID}
	p, err := a.service.GiveProxy(ctx, person, mandates.ProxyInput{HolderID: karim.ID, Areas: []mandates.Area{"social", "argent"},
		Granted: []mandates.Action{mandates.Consult, mandates.Manage}, Duration: mandates.SixMonths})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.service.AnswerProxy(ctx, mandates.Actor{PersonID: karim.ID}, p.ID, true); err != nil {
		t.Fatal(err)
	}
	a.login = authz.Login{PersonID: karim.ID, AMR: []string{"pwd"}, RepresentationID: p.ID}
	tok := a.tokens(t, nil, "openid", "profile", "offline_access")
	if got := repAreas(claimsOfJWT(t, tok.AccessToken)); !slices.Equal(got, []string{"social", "argent"}) {
		t.Fatalf("before: procedure_areas %v", got)
	}
	if _, err := a.service.WithdrawArea(ctx, person, p.ID, "argent"); err != nil {
		t.Fatal(err)
	}
	if status, ui := a.userinfo(t, tok.AccessToken); status != http.StatusOK || !slices.Equal(repAreas(ui), []string{"social"}) {
		t.Errorf("userinfo after the area was withdrawn: %d %v, want social only", status, repAreas(ui))
	}
	refreshed := refresh(t, a.flow, tok.RefreshToken)
	if got := repAreas(claimsOfJWT(t, refreshed.AccessToken)); !slices.Equal(got, []string{"social"}) {
		t.Errorf("refreshed: procedure_areas %v, want social only", got)
	}
}

// Another site that introspects a token learns nothing: not whether it is
// live, nor who acts for whom under which measure (RFC 7662 §4: the
// token's own client and audience only).
func TestAnotherSiteIntrospectingLearnsNothingOfTheRepresentation(t *testing.T) {
	a := newActingFlow(t)
	tok := a.tokens(t, nil, "openid", "profile")
	secret, hash := oauth.NewClientSecret()
	if err := a.store.CreateClient(t.Context(), oauth.Client{ID: "impots", Name: "Impôts", RedirectURIs: []string{"http://127.0.0.1/cb"},
		Scopes: []string{"openid"}, GrantTypes: []string{"authorization_code"}, SectorIdentifier: "impots.example.fr", SecretHash: hash}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/introspect", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("impots", secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != http.StatusOK || m["active"] != false || len(m) != 1 {
		t.Fatalf("another site's introspection: %d %v, want only active false", res.StatusCode, m)
	}
	if own := a.introspection(t, tok.AccessToken); own["representation"] == nil || own["act"] == nil {
		t.Errorf("the token's own site's introspection: %v, want act and representation", own)
	}
}

// A measure moved to other areas than the ones granted leaves the grant
// nothing: it ends, rather than carry an empty list of areas (which reads
// as every area).
func TestAGrantWhoseAreasAreAllTakenAwayEnds(t *testing.T) {
	a := newActingFlow(t, "social")
	tok := a.tokens(t, nil, "openid", "profile", "offline_access")
	a.edit(t, narrowTo("argent"))
	if status, _ := a.userinfo(t, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("userinfo: %d, want 401", status)
	}
	if m := a.introspection(t, tok.AccessToken); m["active"] != false {
		t.Errorf("introspection: %v, want inactive", m)
	}
	code, m := postForm(t, a.flow, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if code != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("refresh: %d %v, want invalid_grant", code, m)
	}
}
