package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

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
		c := validClient()
		c.RedirectURIs = []string{tt.uri}
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

// validClient is a confidential client that breaks no rule.
func validClient() Client {
	return Client{
		ID:                "caf",
		Name:              "Caisse d'allocations familiales",
		RedirectURIs:      []string{"https://caf.example.fr/callback"},
		Scopes:            []string{"openid"},
		GrantTypes:        []string{"authorization_code", "refresh_token"},
		SectorIdentifier:  "caf.example.fr",
		SecretHash:        HashClientSecret("s"),
		ProcedureAreas:    []string{"social"},
		ExchangeAudiences: []string{"api-impots"},
	}
}

// keySet returns a JWK Set holding key, as a client would register it.
func keySet(t *testing.T, key any) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClientValidate(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	publicSet, privateSet := keySet(t, &priv.PublicKey), keySet(t, priv)
	keyJWT := func(c *Client) { c.TokenEndpointAuthMethod, c.SecretHash = AuthMethodPrivateKeyJWT, "" }

	tests := []struct {
		name   string
		change func(*Client)
		field  string // the RFC 7591 name the error must carry; "" when valid
	}{
		{"a confidential client with every default is valid", func(*Client) {}, ""},
		{"a client without id is refused", func(c *Client) { c.ID = "" }, "client_id"},
		{"a client without name is refused", func(c *Client) { c.Name = " " }, "client_name"},

		{"a post-logout redirect URI on https is accepted", func(c *Client) { c.PostLogoutRedirectURIs = []string{"https://caf.example.fr/"} }, ""},
		{"a post-logout redirect URI over http on localhost is accepted", func(c *Client) { c.PostLogoutRedirectURIs = []string{"http://localhost:8081/"} }, ""},
		{"a post-logout redirect URI over http on a public host is refused", func(c *Client) { c.PostLogoutRedirectURIs = []string{"http://caf.example.fr/"} }, "post_logout_redirect_uris"},
		{"a post-logout redirect URI with a fragment is refused", func(c *Client) { c.PostLogoutRedirectURIs = []string{"https://caf.example.fr/#bye"} }, "post_logout_redirect_uris"},
		{"a relative post-logout redirect URI is refused", func(c *Client) { c.PostLogoutRedirectURIs = []string{"/bye"} }, "post_logout_redirect_uris"},

		{"client_secret_post with a secret is accepted", func(c *Client) { c.TokenEndpointAuthMethod = AuthMethodSecretPost }, ""},
		{"client_secret_basic without a secret is refused", func(c *Client) { c.SecretHash = "" }, "client_secret"},
		{"client_secret_post without a secret is refused", func(c *Client) { c.TokenEndpointAuthMethod, c.SecretHash = AuthMethodSecretPost, "" }, "client_secret"},
		{"a public client without a secret is accepted", func(c *Client) { c.TokenEndpointAuthMethod, c.SecretHash = AuthMethodNone, "" }, ""},
		{"a public client with a secret is refused", func(c *Client) { c.TokenEndpointAuthMethod = AuthMethodNone }, "client_secret"},
		{"an unknown auth method is refused", func(c *Client) { c.TokenEndpointAuthMethod = "client_secret_jwt" }, "token_endpoint_auth_method"},

		{"private_key_jwt with an inline public key set is accepted", func(c *Client) { keyJWT(c); c.JWKS = publicSet }, ""},
		{"private_key_jwt with a key set URL is accepted", func(c *Client) { keyJWT(c); c.JWKSURI = "https://caf.example.fr/jwks.json" }, ""},
		{"private_key_jwt without keys is refused", keyJWT, "jwks"},
		{"private_key_jwt with a secret as well is refused", func(c *Client) { keyJWT(c); c.JWKS = publicSet; c.SecretHash = "x" }, "client_secret"},
		{"an inline key set and a key set URL together are refused", func(c *Client) { keyJWT(c); c.JWKS = publicSet; c.JWKSURI = "https://caf.example.fr/jwks.json" }, "jwks"},
		{"a key set holding a private EC key is refused", func(c *Client) { keyJWT(c); c.JWKS = privateSet }, "jwks"},
		{"a private member written in capitals is refused", func(c *Client) { keyJWT(c); c.JWKS = strings.Replace(privateSet, `"d":`, `"D":`, 1) }, "jwks"},
		{"a key set holding a symmetric key is refused", func(c *Client) { keyJWT(c); c.JWKS = `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}` }, "jwks"},
		{"a key of an unknown type is refused", func(c *Client) { keyJWT(c); c.JWKS = `{"keys":[{"kty":"XYZ","kid":"a"}]}` }, "jwks"},
		{"an EC key with a point missing is refused", func(c *Client) { keyJWT(c); c.JWKS = `{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA"}]}` }, "jwks"},
		{"a key set that is not JSON is refused", func(c *Client) { keyJWT(c); c.JWKS = "keys: [k1]" }, "jwks"},
		{"a single key instead of a key set is refused", func(c *Client) { keyJWT(c); c.JWKS = `{"kty":"EC","crv":"P-256"}` }, "jwks"},
		{"an empty key set is refused", func(c *Client) { keyJWT(c); c.JWKS = `{"keys":[]}` }, "jwks"},
		{"a huge key set is refused", func(c *Client) { keyJWT(c); c.JWKS = `{"keys":[` + strings.Repeat(" ", maxJWKSBytes) + `]}` }, "jwks"},
		{"a key set URL over http is refused, even on localhost", func(c *Client) { keyJWT(c); c.JWKSURI = "http://localhost/jwks.json" }, "jwks_uri"},
		{"a relative key set URL is refused", func(c *Client) { keyJWT(c); c.JWKSURI = "/jwks.json" }, "jwks_uri"},

		{"public subjects are accepted", func(c *Client) { c.SubjectType = SubjectPublic }, ""},
		{"public subjects need no sector identifier", func(c *Client) { c.SubjectType, c.SectorIdentifier = SubjectPublic, "" }, ""},
		{"an unknown subject type is refused", func(c *Client) { c.SubjectType = "anonymous" }, "subject_type"},
		{"an unknown procedure area is refused", func(c *Client) { c.ProcedureAreas = []string{"impots"} }, "procedure_areas"},
		{"a procedure area given twice is refused", func(c *Client) { c.ProcedureAreas = []string{"social", "social"} }, "procedure_areas"},
		{"a client exchanging towards itself is refused", func(c *Client) { c.ExchangeAudiences = []string{c.ID} }, "token_exchange_audiences"},
		{"pairwise subjects without a sector identifier are refused", func(c *Client) { c.SectorIdentifier = "" }, "sector_identifier"},
		{"a sector identifier written as a URL is refused", func(c *Client) { c.SectorIdentifier = "https://caf.example.fr/" }, "sector_identifier"},

		{"RS256 ID tokens are accepted", func(c *Client) { c.IDTokenSignedResponseAlg = AlgRS256 }, ""},
		{"unsigned ID tokens are refused", func(c *Client) { c.IDTokenSignedResponseAlg = "none" }, "id_token_signed_response_alg"},
		{"HS256 ID tokens are refused", func(c *Client) { c.IDTokenSignedResponseAlg = "HS256" }, "id_token_signed_response_alg"},
		{"signed userinfo responses are accepted", func(c *Client) { c.UserinfoSignedResponseAlg = AlgES256 }, ""},
		{"an unknown userinfo algorithm is refused", func(c *Client) { c.UserinfoSignedResponseAlg = "none" }, "userinfo_signed_response_alg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClient()
			tt.change(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var ce *ClientError
			if !errors.Is(err, mandates.ErrInvalid) || !errors.As(err, &ce) {
				t.Fatalf("Validate = %v, want a ClientError matching ErrInvalid", err)
			}
			if ce.Field != tt.field {
				t.Errorf("error names field %q, want %q (%v)", ce.Field, tt.field, err)
			}
		})
	}
}

func TestClientNormalize(t *testing.T) {
	tests := []struct {
		name                      string
		method, subject, alg, uia string
		want                      [4]string
	}{
		{"empty values take the defaults", "", "", "", "", [4]string{AuthMethodSecretBasic, SubjectPairwise, AlgES256, ""}},
		{"given values are kept", AuthMethodNone, SubjectPublic, AlgRS256, AlgES256, [4]string{AuthMethodNone, SubjectPublic, AlgRS256, AlgES256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Client{TokenEndpointAuthMethod: tt.method, SubjectType: tt.subject, IDTokenSignedResponseAlg: tt.alg, UserinfoSignedResponseAlg: tt.uia}
			before := c
			_ = c.Validate()
			if !reflect.DeepEqual(c, before) {
				t.Errorf("Validate changed the client: %+v", c)
			}
			c.Normalize()
			if got := [4]string{c.TokenEndpointAuthMethod, c.SubjectType, c.IDTokenSignedResponseAlg, c.UserinfoSignedResponseAlg}; got != tt.want {
				t.Errorf("Normalize gives %v, want %v", got, tt.want)
			}
		})
	}
}

// TestApplyClientUpdateClonesEverySlice: fn may change the lists it is
// given in place; the old client, which the store may still hand back
// after a refused update, must not see it. Every []string field is
// checked, so a list added later is covered too.
func TestApplyClientUpdateClonesEverySlice(t *testing.T) {
	old := validClient()
	old.PostLogoutRedirectURIs = []string{"https://caf.example.fr/"}
	old.Version = 3
	keep := reflect.ValueOf(old)
	var lists []string
	for i := range keep.NumField() {
		if f := keep.Field(i); f.Type() == reflect.TypeFor[[]string]() {
			if f.Len() == 0 {
				t.Fatalf("validClient leaves %s empty: give it a value so this test covers it", keep.Type().Field(i).Name)
			}
			lists = append(lists, keep.Type().Field(i).Name)
		}
	}
	want := old
	want.RedirectURIs, want.PostLogoutRedirectURIs = slices.Clone(old.RedirectURIs), slices.Clone(old.PostLogoutRedirectURIs)
	want.Scopes, want.GrantTypes = slices.Clone(old.Scopes), slices.Clone(old.GrantTypes)
	want.ProcedureAreas = slices.Clone(old.ProcedureAreas)
	want.ExchangeAudiences = slices.Clone(old.ExchangeAudiences)

	got, err := ApplyClientUpdate(old, func(c *Client) error {
		v := reflect.ValueOf(c).Elem()
		for _, name := range lists {
			changed := "https://changed.example.fr/"
			switch name {
			case "ProcedureAreas": // a list of codes, not of URLs
				changed = "famille"
			case "ExchangeAudiences": // client ids
				changed = "api-caf"
			}
			v.FieldByName(name).Index(0).SetString(changed)
		}
		return nil
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(old, want) {
		t.Errorf("the update changed the old client's lists:\n got  %+v\n want %+v", old, want)
	}
	if got.Version != 4 || got.RedirectURIs[0] != "https://changed.example.fr/" {
		t.Errorf("updated client: %+v", got)
	}
	if got.SubjectType != SubjectPairwise || got.TokenEndpointAuthMethod != AuthMethodSecretBasic || got.IDTokenSignedResponseAlg != AlgES256 {
		t.Errorf("the update did not write out the defaults: %+v", got)
	}

	_, err = ApplyClientUpdate(old, func(c *Client) error { c.TokenEndpointAuthMethod = AuthMethodPrivateKeyJWT; return nil }, time.Now())
	if !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("update to private_key_jwt without keys: %v, want ErrInvalid", err)
	}
}
