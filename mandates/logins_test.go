package mandates

import (
	"errors"
	"testing"
)

func TestAPersonNeverRemovesTheirLastWayToLogIn(t *testing.T) {
	tests := []struct {
		name     string
		ways     LoginWays
		provider string
		want     error
	}{
		{"a password and FranceConnect: FranceConnect may go", LoginWays{Password: true, Upstream: []string{"franceconnect"}}, "franceconnect", nil},
		{"FranceConnect and ProConnect, no password: one may go", LoginWays{Upstream: []string{"franceconnect", "proconnect"}}, "proconnect", nil},
		{"FranceConnect alone: it stays", LoginWays{Upstream: []string{"franceconnect"}}, "franceconnect", ErrLastLogin},
		{"nothing linked: nothing to remove", LoginWays{Password: true}, "franceconnect", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.ways.CanRemoveUpstream(tt.provider); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("CanRemoveUpstream(%q) = %v, want %v", tt.provider, err, tt.want)
			}
		})
	}
}

func TestProConnectRequiredForProfessionals(t *testing.T) {
	tests := []struct {
		name         string
		rule         LoginRule
		method       string
		professional bool
		want         error
	}{
		{"not required: a professional's password", LoginRule{}, LoginPassword, true, nil},
		{"required: a professional's password", LoginRule{RequireProConnect: true}, LoginPassword, true, ErrProConnectRequired},
		{"required: a professional's FranceConnect", LoginRule{RequireProConnect: true}, LoginFranceConnect, true, ErrProConnectRequired},
		{"required: a professional's ProConnect", LoginRule{RequireProConnect: true}, LoginProConnect, true, nil},
		{"required: a person's password", LoginRule{RequireProConnect: true}, LoginPassword, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.rule.Allows(tt.method, tt.professional); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Allows(%q, %v) = %v, want %v", tt.method, tt.professional, err, tt.want)
			}
		})
	}
}

func TestLoginAllowedAsksTheStoreWhoIsAProfessional(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	org := w.org("France Services Nantes")
	aidant := w.person("Sophie", "Bernard")
	w.member(org, aidant, MemberAidant, false)
	rule := LoginRule{RequireProConnect: true}
	tests := []struct {
		name     string
		personID string
		method   string
		want     error
	}{
		{"the operator's password", w.op.PersonID, LoginPassword, ErrProConnectRequired},
		{"the aidant's password", aidant, LoginPassword, ErrProConnectRequired},
		{"the aidant's ProConnect", aidant, LoginProConnect, nil},
		{"a person's password", w.jane, LoginPassword, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.svc.LoginAllowed(w.ctx, rule, tt.personID, tt.method); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("LoginAllowed = %v, want %v", err, tt.want)
			}
		})
	}
	if err := w.svc.LoginAllowed(w.ctx, LoginRule{}, w.op.PersonID, LoginPassword); err != nil {
		t.Errorf("without the rule, the operator's password = %v", err)
	}
}
