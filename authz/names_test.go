package authz_test

import (
	"net/http"
	"testing"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
)

// Issue 17: sites show the same name as Relais's pages. The OIDC name
// claim and act.name are mandates.DisplayName, the first given name then
// the name in use; FranceConnect's claims stay as they were beside them.
func TestTokensNameThePersonAndTheActorAsRelaisPagesDo(t *testing.T) {
	a := newActingFlow(t)
	marieID := a.login.PersonID
	marie, err := a.store.UpdatePerson(t.Context(), marieID, func(p *mandates.Person) error {
		p.GivenNames, p.FamilyName, p.PreferredName, p.Gender = "Marie Claire", "Lefèvre", "Martin", mandates.GenderFemale
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	jeanne := a.person // Jeanne Odette Lefèvre, whose nom d'usage is Martin
	actingTok := a.tokens(t, nil, "openid", "profile")
	a.login = authz.Login{PersonID: jeanne.ID, AMR: []string{"pwd"}}
	ownTok := a.tokens(t, nil, "openid", "profile")
	pivotTok := a.tokens(t, nil, "openid", "identite_pivot")

	userinfo := func(tok string) map[string]any {
		status, m := a.userinfo(t, tok)
		if status != http.StatusOK {
			t.Fatalf("userinfo: %d %v", status, m)
		}
		return m
	}
	actName := func(claims map[string]any) any {
		act, _ := claims["act"].(map[string]any)
		return act["name"]
	}
	acting := userinfo(actingTok.AccessToken)
	own := userinfo(ownTok.AccessToken)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"the userinfo name of the person is her display name", own["name"], "Jeanne Martin"},
		{"the userinfo name of the person is DisplayName", own["name"], mandates.DisplayName(jeanne)},
		{"the person's given_name keeps every given name", own["given_name"], "Jeanne Odette"},
		{"the person's family_name stays the birth name", own["family_name"], "Lefèvre"},
		{"the person's preferred_username stays the nom d'usage", own["preferred_username"], "Martin"},
		{"acting for Jeanne, the userinfo name is still Jeanne's", acting["name"], mandates.DisplayName(jeanne)},
		{"act.name in the ID token is Marie's display name", actName(claimsOfJWT(t, actingTok.Extra("id_token").(string))), "Marie Martin"},
		{"act.name in the access token is DisplayName", actName(claimsOfJWT(t, actingTok.AccessToken)), mandates.DisplayName(marie)},
		{"act.name at userinfo is DisplayName", actName(acting), mandates.DisplayName(marie)},
		{"act.given_name keeps every given name", acting["act"].(map[string]any)["given_name"], "Marie Claire"},
		{"act.family_name stays the birth name", acting["act"].(map[string]any)["family_name"], "Lefèvre"},
		{"act.preferred_username stays the nom d'usage", acting["act"].(map[string]any)["preferred_username"], "Martin"},
		{"without the profile scope there is no name claim", userinfo(pivotTok.AccessToken)["name"], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
