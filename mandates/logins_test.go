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
