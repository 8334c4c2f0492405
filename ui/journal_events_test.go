package ui_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// chainOf reads one person's journal from the app's store.
func chainOf(t *testing.T, app *oidcApp, personID string) []journal.Stored {
	t.Helper()
	var out []journal.Stored
	if err := app.store.JournalEntries(t.Context(), personID, func(s journal.Stored) error { out = append(out, s); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func ofType(es []journal.Stored, typ mandates.EventType) []journal.Stored {
	var out []journal.Stored
	for _, e := range es {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestActingForSomeoneIsJournaledInTheirJournal: the tokens Marie gets
// for Jeanne, and the one the site exchanges, are in Jeanne's journal
// with Marie as the actor, the representation, the site and the areas.
func TestActingForSomeoneIsJournaledInTheirJournal(t *testing.T) {
	a := newActingRun(t)
	ctx := t.Context()
	_, apiHash := oauth.NewClientSecret()
	if err := a.app.store.CreateClient(ctx, oauth.Client{ID: "api-impots", Name: "API impots", RedirectURIs: []string{"https://impots.example.fr/cb"},
		Scopes: []string{"openid", "identite_pivot"}, GrantTypes: []string{"client_credentials"}, SecretHash: apiHash, SectorIdentifier: "impots.example.fr"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.app.store.UpdateClient(ctx, "caf", func(c *oauth.Client) error {
		c.GrantTypes = append(c.GrantTypes, authz.GrantTypeTokenExchange)
		c.ExchangeAudiences = []string{"api-impots"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tok := a.accept(t, a.choose(t, a.repID))
	if status, body := exchange(t, a.app, "caf", a.app.secret, url.Values{"subject_token": {tok.AccessToken},
		"subject_token_type": {authz.TokenTypeAccessToken}, "audience": {"api-impots"}, "scope": {"openid"}}); status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	// A refused exchange (a made-up token) writes nothing.
	if status, _ := exchange(t, a.app, "caf", a.app.secret, url.Values{"subject_token": {"made-up"},
		"subject_token_type": {authz.TokenTypeAccessToken}, "audience": {"api-impots"}}); status == http.StatusOK {
		t.Fatal("a made-up subject token was exchanged")
	}
	jeanne := chainOf(t, a.app, a.cast.jeanne.ID)
	for _, c := range []struct {
		typ    mandates.EventType
		client string
		grant  string
	}{
		{mandates.EventTokenIssued, "caf", "authorization_code"},
		{mandates.EventTokenExchanged, "caf", authz.GrantTypeTokenExchange},
	} {
		got := ofType(jeanne, c.typ)
		if len(got) != 1 {
			t.Fatalf("Jeanne's journal holds %d %s, want 1", len(got), c.typ)
		}
		e := got[0]
		if e.PersonID != a.cast.jeanne.ID || e.ActorID != a.cast.marie.ID || e.RepresentationID != a.repID || e.ClientID != c.client {
			t.Errorf("%s: person %s actor %s representation %s client %s, want Jeanne, Marie, %s, %s", c.typ, e.PersonID, e.ActorID, e.RepresentationID, e.ClientID, a.repID, c.client)
		}
		if len(e.Areas) == 0 || e.Detail.Fields["grant_type"] != c.grant {
			t.Errorf("%s: areas %v detail %v", c.typ, e.Areas, e.Detail.Fields)
		}
		for _, v := range e.Detail.Fields {
			if strings.Contains(v, tok.AccessToken) || strings.Contains(v, "Marie") {
				t.Errorf("%s: the detail holds a token or a name: %v", c.typ, e.Detail.Fields)
			}
		}
	}
	if got := ofType(chainOf(t, a.app, a.cast.marie.ID), mandates.EventTokenIssued); len(got) != 0 {
		t.Errorf("Marie's own journal holds the token she got for Jeanne: %v", got)
	}
}

// TestLoginConsentAndLogoutAreJournaledThroughThePages: the pages' acts
// reach the journal of the person who did them.
func TestLoginConsentAndLogoutAreJournaledThroughThePages(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	res, _ := c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {"pas le bon"}, "return": {"/"}})
	res.Body.Close()
	app.passwordStep(t, c, "/")
	// Consent at the caf site.
	conf := app.conf()
	res, err := c.Get(conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, res)
	res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "decision": {"accept"}})
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("consent: %d, page was\n%.1500s", res.StatusCode, page)
	}
	res, _ = c.PostForm(app.srv.URL+"/logout", url.Values{})
	res.Body.Close()
	var types []mandates.EventType
	for _, e := range chainOf(t, app, app.person.ID) {
		types = append(types, e.Type)
		if e.ActorID != app.person.ID {
			t.Errorf("%s by %q, want Jeanne herself", e.Type, e.ActorID)
		}
	}
	want := []mandates.EventType{mandates.EventLoginFailed, mandates.EventLoginSucceeded, mandates.EventSiteConsentGiven, mandates.EventLoggedOut}
	if !slices.Equal(types, want) {
		t.Errorf("Jeanne's journal: %v, want %v", types, want)
	}
}
