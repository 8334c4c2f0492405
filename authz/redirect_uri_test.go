package authz

import "testing"

func TestRegisteredRedirectMatchesCharacterForCharacter(t *testing.T) {
	registered := []string{"https://caf.example.fr/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb?x=1"}
	tests := []struct {
		name      string
		requested string
		native    bool
		want      bool
	}{
		{"a registered URI", "https://caf.example.fr/cb", false, true},
		{"no redirect_uri: fosite takes the only one", "", false, true},
		{"a trailing slash", "https://caf.example.fr/cb/", false, false},
		{"a percent-encoded letter", "https://caf.example.fr/%63b", false, false},
		{"an upper-case host", "https://CAF.example.fr/cb", false, false},
		{"a native app's loopback port", "http://127.0.0.1:51004/cb", true, true},
		{"a native app's loopback port on IPv6, query kept", "http://[::1]:9/cb?x=1", true, true},
		{"a web site's loopback port", "http://127.0.0.1:51004/cb", false, false},
		{"a native app's loopback URI with a percent-encoded letter", "http://127.0.0.1/%63b", true, false},
		{"a native app's loopback URI with another query", "http://[::1]:9/cb?x=2", true, false},
		{"a native app's loopback port with user info", "http://a@127.0.0.1:9/cb", true, false},
		{"a port on a host that is not loopback", "https://caf.example.fr:444/cb", true, false},
		{"localhost, not an IP literal", "http://localhost:9/cb", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := registeredRedirect(tt.requested, registered, tt.native); got != tt.want {
				t.Errorf("registeredRedirect(%q, native %v) = %v, want %v", tt.requested, tt.native, got, tt.want)
			}
		})
	}
}
