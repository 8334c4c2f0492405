package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/mandates"
)

// eidas2URL is the member's authorization request with acr_values=eidas2,
// as a site that needs the eIDAS "substantial" level sends it.
func (m *memberRun) eidas2URL(extra ...oauth2.AuthCodeOption) string {
	return m.conf.AuthCodeURL("state-123456", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(m.verifier),
		oauth2.SetAuthURLParam("nonce", "nonce-123456"), oauth2.SetAuthURLParam("acr_values", "eidas2")}, extra...)...)
}

func TestEidas2AsksAPasswordOnlySessionForTheSecondFactor(t *testing.T) {
	m := newMemberRun(t, func(c *cast) mandates.Person { return c.aidant })
	res, _ := m.page(t, m.eidas2URL())
	next, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || next == nil || next.Path != "/login/code" {
		t.Fatalf("eidas2 from a password-only session: %d to %q, want the code page", res.StatusCode, res.Header.Get("Location"))
	}
	back := next.Query().Get("return")
	if u, _ := url.Parse(back); u == nil || u.Path != "/authorize" || u.Query().Get("acr_values") != "eidas2" || u.Query().Get("state") != "state-123456" {
		t.Fatalf("the code page returns to %q, want the same authorization request", back)
	}
	res, _ = m.post(t, "/login/code", url.Values{"code": {totpCode(t, m.cast.aidantTOTP, 1)}, "return": {back}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/authorize?") {
		t.Fatalf("right code: %d to %q, want back to the request", res.StatusCode, res.Header.Get("Location"))
	}
	res, page := m.page(t, res.Header.Get("Location"))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Pour qui faites-vous cette démarche") {
		t.Fatalf("after the code: %d to %q, want the for-whom page", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = m.post(t, "/pour-qui", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "for": {"self"}})
	res, consent := m.page(t, res.Header.Get("Location"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("consent: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok := m.accept(t, consent)
	if acr := claimsOf(t, tok.Extra("id_token").(string))["acr"]; acr != "eidas2" {
		t.Errorf("ID token acr %v after the second factor, want eidas2", acr)
	}
}

func TestEidas2WithoutASecondFactorToGiveGoesOnAsEidas1(t *testing.T) {
	tests := []struct {
		name   string
		member func(*cast) mandates.Person
		extra  []oauth2.AuthCodeOption
	}{
		// Nadia never turned the code on: nothing to ask for.
		{"a person without a second factor", func(c *cast) mandates.Person { return c.admin }, nil},
		// prompt=none: no page may be shown (OIDC Core §3.1.2.1).
		{"prompt=none", func(c *cast) mandates.Person { return c.aidant }, []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "none")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemberRun(t, tt.member)
			res, _ := m.page(t, m.eidas2URL(tt.extra...))
			if loc := res.Header.Get("Location"); strings.HasPrefix(loc, "/login/code") {
				t.Errorf("eidas2 sent to the code page (%q), with nothing it can give", loc)
			}
		})
	}
}
