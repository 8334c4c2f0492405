package ui_test

import (
	"maps"
	"net/http"
	"net/url"
	"testing"
)

// TestOrganisationsGetASIRET: the API and the operator's page take an
// optional SIRET, refuse one whose key is wrong or that another
// organisation has, and show it back.
func TestOrganisationsGetASIRET(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	body := func(siret string) map[string]any {
		b := map[string]any{"name": "CCAS de Bron", "kind": "ccas", "admin_email": c.admin.Email, "siret": siret}
		maps.Copy(b, apiBronAddress())
		return b
	}
	if code, out := op.api(http.MethodPost, "/api/v1/organisations", body("73282932000075")); code != http.StatusBadRequest {
		t.Errorf("a SIRET whose key is wrong: %d %v, want 400", code, out)
	}
	code, org := op.api(http.MethodPost, "/api/v1/organisations", body("732 829 320 00074"))
	if code != http.StatusCreated || org["siret"] != "73282932000074" {
		t.Fatalf("create with a SIRET: %d %v", code, org)
	}
	if code, out := op.api(http.MethodPost, "/api/v1/organisations", body("73282932000074")); code != http.StatusConflict {
		t.Errorf("a second organisation with the SIRET: %d %v, want 409", code, out)
	}
	if code, out := op.api(http.MethodPost, "/api/v1/organisations", body("")); code != http.StatusCreated {
		t.Errorf("without a SIRET: %d %v", code, out)
	}

	cl := signedInClient(t, app, c.operator, "pwd", "otp")
	form := url.Values{"name": {"France Services Vénissieux"}, "kind": {"france_services"}, "admin_email": {c.admin.Email}, "siret": {"12345678901234"},
		"address_street": {"1 place de la Mairie"}, "address_postal_code": {"69200"}, "address_locality": {"Vénissieux"}, "address_country": {"France"}}
	if a := postForm(t, app, cl, "/operateur/structures", form); a.status != http.StatusBadRequest || !a.has("Le numéro SIRET n’est pas valable") ||
		!a.has(`id="siret" name="siret"`) {
		t.Errorf("a wrong SIRET on the page: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	form.Set("siret", "35600000000001")
	if a := postForm(t, app, cl, "/operateur/structures", form); a.status != http.StatusSeeOther {
		t.Fatalf("La Poste's SIRET: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if a := getPage(t, app, cl, "/operateur/structures"); !a.has("35600000000001") {
		t.Error("the list of organisations does not show the SIRET")
	}
}
