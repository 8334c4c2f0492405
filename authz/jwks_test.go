package authz

import (
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// The key set's JSON is kept while the same keys are published, and made
// anew when one is added or removed.
func TestEncodedKeysFollowTheKids(t *testing.T) {
	var e encodedKeys
	one := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{KeyID: "a", Algorithm: "ES256", Key: []byte("k")}}}
	two := jose.JSONWebKeySet{Keys: append(one.Keys, jose.JSONWebKey{KeyID: "b", Algorithm: "HS256", Key: []byte("l")})}
	first, err := e.encode(one)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.encode(one)
	if &first[0] != &again[0] {
		t.Error("the same keys were encoded again")
	}
	both, _ := e.encode(two)
	if !strings.Contains(string(both), `"kid":"b"`) || strings.Contains(string(first), `"kid":"b"`) {
		t.Errorf("after a key was added: %s", both)
	}
	back, _ := e.encode(one)
	if strings.Contains(string(back), `"kid":"b"`) {
		t.Errorf("after the key was removed: %s", back)
	}
}
