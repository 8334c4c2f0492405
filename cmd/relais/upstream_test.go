package main

import (
	"errors"
	"testing"
)

// TestUpstreamSettingsAreCheckedAtStart: FranceConnect's and ProConnect's
// settings go together, each mistake is a setting to fix (exit 2) named
// in one sentence, and nothing configured changes nothing.
func TestUpstreamSettingsAreCheckedAtStart(t *testing.T) {
	fc := func(c UpstreamConfig) UpstreamConfig {
		c.FCIssuer, c.FCClientID, c.FCClientSecret, c.FCScopes = "https://fc.example", "relais", "s", defaultFranceConnectScopes
		return c
	}
	pc := func(c UpstreamConfig) UpstreamConfig {
		c.PCIssuer, c.PCClientID, c.PCClientSecret, c.PCScopes = "https://pc.example", "relais", "s", defaultProConnectScopes
		return c
	}
	tests := []struct {
		name string
		c    UpstreamConfig
		ok   bool
	}{
		{"nothing configured", UpstreamConfig{}, true},
		{"FranceConnect whole", fc(UpstreamConfig{}), true},
		{"FranceConnect and ProConnect, ProConnect required", pc(fc(UpstreamConfig{RequireProConnect: true})), true},
		{"FranceConnect without its secret", func() UpstreamConfig { c := fc(UpstreamConfig{}); c.FCClientSecret = ""; return c }(), false},
		{"FranceConnect without a client id", func() UpstreamConfig { c := fc(UpstreamConfig{}); c.FCClientID = ""; return c }(), false},
		{"FranceConnect over plain http elsewhere than localhost", func() UpstreamConfig { c := fc(UpstreamConfig{}); c.FCIssuer = "http://fc.example"; return c }(), false},
		{"FranceConnect's scopes without openid", func() UpstreamConfig { c := fc(UpstreamConfig{}); c.FCScopes = "email"; return c }(), false},
		{"a secret without an issuer", UpstreamConfig{FCClientSecret: "s"}, false},
		{"self sign-up without FranceConnect", UpstreamConfig{SelfSignUp: true}, false},
		{"ProConnect required without ProConnect", fc(UpstreamConfig{RequireProConnect: true}), false},
		{"ProConnect without its secret", func() UpstreamConfig { c := pc(UpstreamConfig{}); c.PCClientSecret = ""; return c }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.validate()
			var ce *configError
			if tt.ok != (err == nil) || (err != nil && !errors.As(err, &ce)) {
				t.Errorf("validate = %v, want ok %v (and a setting to fix otherwise)", err, tt.ok)
			}
		})
	}
}
