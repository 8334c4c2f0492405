package authz

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/authz/oauth"
)

// A stored request comes back as the same JSON, compact or not, and the
// compact form is much smaller.
func TestStoredRequestsAreCompactAndExact(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 27, 56, 254982528, time.UTC)
	s := NewSession()
	s.Subject, s.PersonID, s.AMR, s.AuthTime = "ZpLuiyCjMQOg2gsQD_Dc2_28ZLiEjBRoUfA3mxB7qFw", "0193a000-0000-7000-8000-000000000001", []string{"pwd"}, at
	s.Claims.Issuer, s.Claims.Subject, s.Claims.AuthTime, s.Claims.RequestedAt, s.Claims.AuthenticationContextClassReference =
		"https://relais.example.fr", s.Subject, at, at, "eidas1"
	s.ExpiresAt[fosite.AccessToken] = at.Add(10 * time.Minute)
	s.ExpiresAt[fosite.RefreshToken] = at.Add(720 * time.Hour)
	s.AccessClaims.Subject, s.AccessClaims.Issuer, s.AccessClaims.Audience = s.Subject, "https://relais.example.fr", []string{"caf"}
	s.AccessClaims.Extra["client_id"] = "caf"
	s.AccessClaims.IssuedAt, s.AccessClaims.ExpiresAt, s.AccessClaims.ScopeField = at, at.Add(10*time.Minute), jwt.JWTScopeFieldString
	s.RepresentationID = "0193a000-0000-7000-8000-0000000000aa"
	r := fosite.NewAccessRequest(s)
	r.ID, r.RequestedAt, r.Client = "11e5d95c-1836-4276-9507-076993577276", at, &fositeClient{oauth.Client{ID: "caf"}}
	r.RequestedScope, r.GrantedScope = fosite.Arguments{"openid", "offline_access"}, fosite.Arguments{"openid", "offline_access"}
	r.GrantedAudience = fosite.Arguments{"caf"}
	r.Form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"secret"}, "note": {"a\u0001b \"quoted\""}}

	stored, err := encodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if stored[0] != 1 {
		t.Fatalf("stored request begins with %q, want the compact form", stored[:1])
	}
	full := expandRequest(stored)
	if !json.Valid(full) || bytes.Contains(full, []byte("secret")) {
		t.Fatalf("expanded request is not the JSON stored, or holds the refresh token: %s", full)
	}
	if again := compactRequest(full); !bytes.Equal(again, stored) {
		t.Error("compacting the expanded JSON again gives other bytes")
	}
	if len(stored)*10 > len(full)*6 {
		t.Errorf("compact form is %d bytes for %d of JSON; want at most 60 %%", len(stored), len(full))
	}
	t.Logf("stored request: %d bytes compact, %d as JSON", len(stored), len(full))

	fs := &fositeStorage{clients: &countingClients{c: &oauth.Client{ID: "caf"}}}
	for name, raw := range map[string][]byte{"compact": stored, "JSON as stored before": full} {
		got, err := fs.decodeRequest(t.Context(), raw, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		gs := got.GetSession().(*Session)
		if got.ID != r.ID || !got.RequestedAt.Equal(at) || gs.PersonID != s.PersonID || gs.RepresentationID != s.RepresentationID ||
			!gs.ExpiresAt[fosite.RefreshToken].Equal(s.ExpiresAt[fosite.RefreshToken]) || gs.AccessClaims.Extra["client_id"] != "caf" ||
			got.Form.Get("note") != "a\u0001b \"quoted\"" || got.Form.Get("refresh_token") != "" {
			t.Errorf("%s: decoded %+v, session %+v", name, got, gs)
		}
	}
}

// Whatever JSON object is stored, compacting then expanding gives back
// the same bytes: fuzzed. (encodeRequest stores json.Marshal's output,
// which begins with '{'.)
func FuzzStoredRequestRoundTrip(f *testing.F) {
	f.Add([]byte(`{"id":"x","requested_at":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"id":"","client_id":"\u0001"}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		if len(js) == 0 || js[0] != '{' || !json.Valid(js) {
			return
		}
		c := compactRequest(js)
		if got := expandRequest(c); !bytes.Equal(got, js) {
			t.Fatalf("round trip of %q gave %q", js, got)
		}
	})
}
