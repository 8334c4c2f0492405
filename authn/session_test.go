package authn

import "testing"

func TestSessionTokensAreStoredHashed(t *testing.T) {
	token, id := NewSessionToken()
	if id == token || SessionID(token) != id || len(id) != 64 {
		t.Errorf("token %q id %q", token, id)
	}
}
