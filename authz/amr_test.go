package authz_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// jwtPayload reads a JWT's claims; the signature is checked elsewhere.
func jwtPayload(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func amrOf(claims map[string]any) []string {
	var out []string
	list, _ := claims["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// RFC 8176 §2: a login with a password and a one-time code says "otp",
// and "mfa" since it used more than one factor; both tokens say how the
// person logged in (RFC 9068 §2.2.1 for the access token), so a site can
// ask for a second factor before an act.
func TestTokensSayHowThePersonLoggedIn(t *testing.T) {
	tests := []struct {
		name string
		amr  []string
		want []string
	}{
		{"password and code: otp and mfa", []string{"pwd", "otp"}, []string{"pwd", "otp", "mfa"}},
		{"password only: pwd alone", []string{"pwd"}, []string{"pwd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlow(t)
			f.login.AMR = tt.amr
			code, verifier := f.codeFor(t, "caf", []string{"openid"})
			status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}, "caf", f.secret)
			if status != 200 {
				t.Fatalf("exchange: %d %v", status, body)
			}
			id, _ := body["id_token"].(string)
			at, _ := body["access_token"].(string)
			for name, claims := range map[string]map[string]any{"ID token": jwtPayload(t, id), "access token": jwtPayload(t, at)} {
				if got := amrOf(claims); !slices.Equal(got, tt.want) {
					t.Errorf("%s: amr %q, want %q", name, got, tt.want)
				}
			}
			if !slices.Equal(f.login.AMR, tt.amr) {
				t.Errorf("the login's amr became %q: the provider changed its caller's list", f.login.AMR)
			}
		})
	}
}
