package ui_test

import (
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// TestTheFirstActAtEachSiteIsJournaledOnce: Marie, Jeanne's tutor, acts
// for Jeanne twice at the caf site, refreshes her token there, acts for
// herself there, then acts for Jeanne once at the tax office's site:
// Jeanne's journal holds two first acts, one per site, each with Marie,
// the tutelle and the site's name; Marie's own holds none.
func TestTheFirstActAtEachSiteIsJournaledOnce(t *testing.T) {
	a := newActingRun(t)
	ctx := t.Context()
	secret, hash := oauth.NewClientSecret()
	if err := a.app.store.CreateClient(ctx, oauth.Client{ID: "impots", Name: "Impôts", RedirectURIs: []string{"http://127.0.0.1/cb"},
		Scopes: []string{"openid", "identite_pivot"}, GrantTypes: []string{"authorization_code"}, SecretHash: hash,
		SectorIdentifier: "impots.example.fr", ProcedureAreas: []string{"argent"}}); err != nil {
		t.Fatal(err)
	}

	first := a.accept(t, a.choose(t, a.repID))
	again := &actingRun{app: a.app, cast: a.cast, c: a.c, conf: a.conf, verifier: oauth2.GenerateVerifier(), repID: a.repID}
	again.accept(t, again.choose(t, a.repID))
	if first.RefreshToken == "" {
		t.Fatal("no refresh token at caf")
	}
	expired := &oauth2.Token{RefreshToken: first.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	if _, err := a.conf.TokenSource(ctx, expired).Token(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	self := &actingRun{app: a.app, cast: a.cast, c: a.c, conf: a.conf, verifier: oauth2.GenerateVerifier()}
	self.accept(t, self.choose(t, authz.ActingSelf))
	impots := *a.conf
	impots.ClientID, impots.ClientSecret, impots.Scopes = "impots", secret, []string{"openid", "identite_pivot"}
	there := &actingRun{app: a.app, cast: a.cast, c: a.c, conf: &impots, verifier: oauth2.GenerateVerifier(), repID: a.repID}
	there.accept(t, there.choose(t, a.repID))

	got := ofType(chainOf(t, a.app, a.cast.jeanne.ID), mandates.EventSiteFirstAct)
	if len(got) != 2 {
		t.Fatalf("Jeanne's journal holds %d first acts, want one at caf and one at impots: %+v", len(got), got)
	}
	for i, want := range []struct{ client, name string }{{"caf", "Caisse d’allocations familiales"}, {"impots", "Impôts"}} {
		e := got[i]
		if e.ActorID != a.cast.marie.ID || e.PersonID != a.cast.jeanne.ID || e.RepresentationID != a.repID || e.ClientID != want.client ||
			e.Detail == nil || e.Detail.Fields["client_id"] != want.client || e.Detail.Fields["site_name"] != want.name {
			t.Errorf("first act %d: %+v %+v, want Marie at %s", i, e.Entry, e.Detail, want.client)
		}
	}
	if mine := ofType(chainOf(t, a.app, a.cast.marie.ID), mandates.EventSiteFirstAct); len(mine) != 0 {
		t.Errorf("Marie acting for herself made first acts: %+v", mine)
	}
}
