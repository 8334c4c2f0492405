package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/relais-fr/relais/mandates"
)

// jwkSet is a JSON key set of the public halves of keys, as a site
// registers it.
func jwkSet(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestClientEncryptionSettings(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaEnc := jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa-enc", Use: "enc"}
	ecEnc := jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec-enc", Use: "enc", Algorithm: EncAlgECDHES}
	ecNoUse := jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec"}
	ecSig := jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec-sig", Use: "sig", Algorithm: AlgES256}
	rsaForOtherAlg := jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa-oaep", Use: "enc", Algorithm: "RSA-OAEP"}

	tests := []struct {
		name      string
		change    func(c *Client)
		wantField string // "" when valid
	}{
		{"RSA-OAEP-256 to an RSA key marked enc", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg = jwkSet(t, rsaEnc), EncAlgRSAOAEP256
		}, ""},
		{"ECDH-ES to an EC key without use, userinfo too", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg, c.UserinfoEncryptedResponseAlg = jwkSet(t, ecNoUse), EncAlgECDHES, EncAlgECDHES
		}, ""},
		{"a key set at a URL is read when a token is issued", func(c *Client) {
			c.JWKSURI, c.IDTokenEncryptedResponseAlg = "https://caf.example.fr/jwks.json", EncAlgRSAOAEP256
		}, ""},
		{"an unknown alg", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg = jwkSet(t, rsaEnc), "RSA1_5"
		}, "id_token_encrypted_response_alg"},
		{"a direct key alg", func(c *Client) {
			c.JWKS, c.UserinfoEncryptedResponseAlg = jwkSet(t, rsaEnc), "dir"
		}, "userinfo_encrypted_response_alg"},
		{"an enc other than A256GCM", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc = jwkSet(t, rsaEnc), EncAlgRSAOAEP256, "A128CBC-HS256"
		}, "id_token_encrypted_response_enc"},
		{"an enc without its alg", func(c *Client) {
			c.JWKS, c.UserinfoEncryptedResponseEnc = jwkSet(t, rsaEnc), EncA256GCM
		}, "userinfo_encrypted_response_enc"},
		{"an alg but no keys", func(c *Client) {
			c.IDTokenEncryptedResponseAlg = EncAlgECDHES
		}, "id_token_encrypted_response_alg"},
		{"keys for signing only", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg = jwkSet(t, ecSig), EncAlgECDHES
		}, "jwks"},
		{"an EC key for RSA-OAEP-256", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg = jwkSet(t, ecEnc), EncAlgRSAOAEP256
		}, "jwks"},
		{"an RSA key registered for another alg", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg = jwkSet(t, rsaForOtherAlg), EncAlgRSAOAEP256
		}, "jwks"},
		{"an RSA key of 1024 bits", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg = jwkSet(t, jose.JSONWebKey{Key: &smallRSA.PublicKey, KeyID: "small", Use: "enc"}), EncAlgRSAOAEP256
		}, "jwks"},
		{"a usable key for the ID token but none for userinfo's alg", func(c *Client) {
			c.JWKS, c.IDTokenEncryptedResponseAlg, c.UserinfoEncryptedResponseAlg = jwkSet(t, rsaEnc), EncAlgRSAOAEP256, EncAlgECDHES
		}, "jwks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClient()
			tt.change(&c)
			err := c.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			var ce *ClientError
			if !errors.As(err, &ce) || ce.Field != tt.wantField || !errors.Is(err, mandates.ErrInvalid) {
				t.Fatalf("Validate = %v, want a ClientError on %s", err, tt.wantField)
			}
		})
	}
}

func TestClientEncryptionDefaultsToA256GCM(t *testing.T) {
	c := validClient()
	c.JWKSURI = "https://caf.example.fr/jwks.json"
	c.IDTokenEncryptedResponseAlg, c.UserinfoEncryptedResponseAlg = EncAlgRSAOAEP256, EncAlgECDHES
	c.Normalize()
	if c.IDTokenEncryptedResponseEnc != EncA256GCM || c.UserinfoEncryptedResponseEnc != EncA256GCM {
		t.Errorf("enc after Normalize: %q and %q, want A256GCM for both", c.IDTokenEncryptedResponseEnc, c.UserinfoEncryptedResponseEnc)
	}
	plain := validClient()
	plain.Normalize()
	if plain.IDTokenEncryptedResponseEnc != "" || plain.UserinfoEncryptedResponseEnc != "" || plain.EncryptsIDToken() || plain.EncryptsUserinfo() {
		t.Errorf("a client without encryption got %+v", plain)
	}
}

func TestEncryptionKeyPrefersKeysMarkedEnc(t *testing.T) {
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	keys := []jose.JSONWebKey{
		{Key: &a.PublicKey, KeyID: "sig", Use: "sig"},
		{Key: &a.PublicKey, KeyID: "no-use"},
		{Key: &b.PublicKey, KeyID: "enc", Use: "enc"},
	}
	if k, ok := EncryptionKey(keys, EncAlgECDHES); !ok || k.KeyID != "enc" {
		t.Errorf("EncryptionKey = %q, %v; want the key marked enc", k.KeyID, ok)
	}
	if k, ok := EncryptionKey(keys[:2], EncAlgECDHES); !ok || k.KeyID != "no-use" {
		t.Errorf("EncryptionKey without an enc key = %q, %v; want the key without use", k.KeyID, ok)
	}
	if _, ok := EncryptionKey(keys, EncAlgRSAOAEP256); ok {
		t.Error("EncryptionKey found an RSA key in a set of EC keys")
	}
}
