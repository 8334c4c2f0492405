package ui_test

import (
	"html"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// formBronAddress is a complete postal address as the operator's form
// sends it.
func formBronAddress() url.Values {
	return url.Values{"address_street": {"Hôtel de ville\r\n1 place Jean Jaurès"}, "address_postal_code": {"69500"},
		"address_locality": {"Bron"}, "address_country": {"France"}}
}

// apiBronAddress is the same address as the JSON API takes it.
func apiBronAddress() map[string]any {
	return map[string]any{"address_street": "Hôtel de ville\n1 place Jean Jaurès", "address_postal_code": "69500",
		"address_locality": "Bron", "address_country": "France"}
}

func TestTheOrganisationFormRefusesAMissingOrBadAddress(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	if _, text, _ := op.do(http.MethodGet, "/operateur/structures", nil); !strings.Contains(text, `id="address_country" name="address_country" type="text" autocomplete="off" value="France"`) {
		t.Errorf("the empty form does not offer France as the country")
	}
	for _, tt := range []struct {
		name  string
		set   url.Values
		field string
	}{
		{"without a street", url.Values{"address_street": {" \r\n "}}, "address_street"},
		{"without a postal code", url.Values{"address_postal_code": {""}}, "address_postal_code"},
		{"with a French postal code of 4 digits", url.Values{"address_postal_code": {"6950"}}, "address_postal_code"},
		{"without a commune", url.Values{"address_locality": {""}}, "address_locality"},
		{"with a country too long", url.Values{"address_country": {strings.Repeat("France ", 30)}}, "address_country"},
		{"with a street too long", url.Values{"address_street": {strings.Repeat("rue ", 51)}}, "address_street"},
		// Found by the domain, after the form's own checks.
		{"with a commune that is not text", url.Values{"address_locality": {"Bron\xff"}}, "address_locality"},
	} {
		form := url.Values{"name": {"CCAS de Bron"}, "kind": {"ccas"}, "admin_email": {c.admin.Email}}
		maps.Copy(form, formBronAddress())
		maps.Copy(form, tt.set)
		code, text, _ := op.do(http.MethodPost, "/operateur/structures", form)
		if code != http.StatusBadRequest || !invalidInput(text, tt.field) || !strings.Contains(text, `href="#`+tt.field+`"`) {
			t.Errorf("organisation %s: %d, want 400 with the problem at #%s and in the summary", tt.name, code, tt.field)
		}
		for _, other := range []string{"name", "org_kind", "admin_email", "address_street", "address_postal_code", "address_locality", "address_country"} {
			if other != tt.field && invalidInput(text, other) {
				t.Errorf("organisation %s: %s is marked too", tt.name, other)
			}
		}
		if !strings.Contains(text, `value="CCAS de Bron"`) || (tt.field != "address_locality" && !strings.Contains(text, `value="Bron"`)) ||
			!strings.Contains(text, `<textarea id="address_street"`) {
			t.Errorf("organisation %s: the form lost what was typed", tt.name)
		}
		if strings.Count(text, `<li class="card">`) != 1 {
			t.Errorf("organisation %s: the list is not the one organisation", tt.name)
		}
	}
	if orgs, err := app.service.Organisations(t.Context(), mandates.Actor{PersonID: c.operator.ID}); err != nil || len(orgs) != 1 {
		t.Errorf("%d organisations after refused creations (%v), want 1", len(orgs), err)
	}
}

// TestAnOrganisationsAddressMustFitAnEnvelope: a line an envelope cannot
// hold (38 characters, 3 street lines in France) is refused next to its
// field, in words that say the rule, instead of every letter to the
// organisation being refused later.
func TestAnOrganisationsAddressMustFitAnEnvelope(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	for _, tt := range []struct {
		name, field, value, says string
	}{
		{"a street line of 39 characters", "address_street", "Résidence des Grands Chênes du Val de Lo\r\n1 place Jean Jaurès", "38 caractères"},
		{"four street lines", "address_street", "Bâtiment B\r\nEscalier 2\r\nHôtel de ville\r\n1 place Jean Jaurès", "3 lignes"},
		{"a commune too long for its line", "address_locality", "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson", "38 caractères"},
	} {
		form := url.Values{"name": {"CCAS de Bron"}, "kind": {"ccas"}, "admin_email": {c.admin.Email}}
		maps.Copy(form, formBronAddress())
		form.Set(tt.field, tt.value)
		code, text, _ := op.do(http.MethodPost, "/operateur/structures", form)
		if code != http.StatusBadRequest || !invalidInput(text, tt.field) || !strings.Contains(text, tt.says) {
			t.Errorf("%s: %d, want 400 with the problem at #%s saying %q", tt.name, code, tt.field, tt.says)
		}
	}
	if orgs, err := app.service.Organisations(t.Context(), mandates.Actor{PersonID: c.operator.ID}); err != nil || len(orgs) != 1 {
		t.Errorf("%d organisations after refused creations (%v), want only the cast's", len(orgs), err)
	}
}

func TestAnOrganisationCreatedWithItsAddressShowsIt(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	form := url.Values{"name": {"CCAS de Bron"}, "kind": {"ccas"}, "admin_email": {c.admin.Email}}
	maps.Copy(form, formBronAddress())
	form.Set("address_country", "")
	code, _, h := op.do(http.MethodPost, "/operateur/structures", form)
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Location"), "/structure/"), "?fait=creee")
	o, err := app.service.Organisation(t.Context(), c.operator.ID, id)
	want := mandates.Address{Street: "Hôtel de ville\n1 place Jean Jaurès", PostalCode: "69500", Locality: "Bron"}
	if err != nil || o.Address != want {
		t.Fatalf("stored address %+v (%v), want %+v", o.Address, err, want)
	}
	_, text, _ := op.do(http.MethodGet, "/structure/"+id, nil)
	if !strings.Contains(html.UnescapeString(text), "<dd>Hôtel de ville<br>1 place Jean Jaurès<br>69500 Bron</dd>") {
		t.Errorf("the organisation's page does not show its address")
	}
	// c.org has its address; an organisation recorded before addresses
	// says it has none.
	old := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "CCAS de Saint-Priest", Kind: mandates.OrgCCAS, CreatedBy: c.operator.ID}
	if err := app.store.CreateOrganisation(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	if _, text, _ := op.do(http.MethodGet, "/structure/"+old.ID, nil); !strings.Contains(html.UnescapeString(text), "Aucune adresse pour le moment.") {
		t.Errorf("the page of an organisation without an address does not say so")
	}
}

func TestTheOrganisationAPIRefusesAMissingOrBadAddress(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	for _, tt := range []struct {
		name, field, value, desc string
	}{
		{"without a street", "address_street", "", "address_street is missing."},
		{"without a postal code", "address_postal_code", " ", "address_postal_code is missing."},
		{"with a French postal code of letters", "address_postal_code", "BRON1", "address_postal_code is not in the expected form."},
		{"without a commune", "address_locality", "", "address_locality is missing."},
		{"with a country too long", "address_country", strings.Repeat("France ", 30), "address_country is longer than 200 bytes."},
	} {
		body := map[string]any{"name": "CCAS de Bron", "kind": "ccas", "admin_email": c.admin.Email}
		maps.Copy(body, apiBronAddress())
		body[tt.field] = tt.value
		code, out := op.api(http.MethodPost, "/api/v1/organisations", body)
		if code != http.StatusBadRequest || out["error"] != "invalid_request" || out["error_description"] != tt.desc {
			t.Errorf("organisation %s: %d %v, want 400 invalid_request %q", tt.name, code, out, tt.desc)
		}
	}
	body := map[string]any{"name": "CCAS de Bron", "kind": "ccas", "admin_email": c.admin.Email}
	if code, out := op.api(http.MethodPost, "/api/v1/organisations", body); code != http.StatusBadRequest || out["error_description"] != "address_street is missing." {
		t.Errorf("organisation without any address: %d %v", code, out)
	}
	if _, list := op.api(http.MethodGet, "/api/v1/organisations", nil); len(list["organisations"].([]any)) != 1 {
		t.Fatalf("%d organisations after refused creations, want 1", len(list["organisations"].([]any)))
	}
	maps.Copy(body, apiBronAddress())
	code, org := op.api(http.MethodPost, "/api/v1/organisations", body)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, org)
	}
	for k, v := range apiBronAddress() {
		if org[k] != v {
			t.Errorf("created organisation's %s = %v, want %v", k, org[k], v)
		}
	}
	_, got := op.api(http.MethodGet, "/api/v1/organisations/"+org["id"].(string), nil)
	if got["address_locality"] != "Bron" || got["address_postal_code"] != "69500" {
		t.Errorf("read back %v, want its address", got)
	}
}
