package authz

import (
	"errors"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

func TestClientSecrets(t *testing.T) {
	secret, hash := NewClientSecret()
	if len(secret) < 43 || hash == secret {
		t.Fatalf("secret %q / hash %q", secret, hash)
	}
	if !ClientSecretMatches(hash, secret) || ClientSecretMatches(hash, secret+"x") || ClientSecretMatches("", "") {
		t.Error("ClientSecretMatches answers wrongly")
	}
	if other, _ := NewClientSecret(); other == secret {
		t.Error("two secrets are equal")
	}
}

func TestClientRedirectURIs(t *testing.T) {
	tests := []struct {
		uri   string
		valid bool
	}{
		{"https://caf.example.fr/callback", true},
		{"https://caf.example.fr/callback?from=relais", true},
		{"http://localhost:3000/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://caf.example.fr/callback", false}, // RFC 9700 §2.1: https outside loopback
		{"https://caf.example.fr/callback#x", false},
		{"/callback", false},
		{"javascript:alert(1)", false},
		{"https://", false},
	}
	for _, tt := range tests {
		c := Client{ID: "c", Name: "Site", RedirectURIs: []string{tt.uri}}
		err := c.Validate()
		if (err == nil) != tt.valid {
			t.Errorf("%s: Validate = %v, want valid=%v", tt.uri, err, tt.valid)
		}
		if err != nil && !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: error %v is not ErrInvalid", tt.uri, err)
		}
	}
	if err := (&Client{Name: "x"}).Validate(); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("client without id: %v", err)
	}
}

func TestSessionTokensAreStoredHashed(t *testing.T) {
	token, id := NewSessionToken()
	if id == token || SessionID(token) != id || len(id) != 64 {
		t.Errorf("token %q id %q", token, id)
	}
}
