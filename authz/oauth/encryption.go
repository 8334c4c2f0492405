package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// Encryption of ID tokens and userinfo answers (OpenID Connect Dynamic
// Client Registration 1.0 §2, *_encrypted_response_alg and _enc), as
// FranceConnect asks of the identity providers it federates: the signed
// JWT is encrypted to a public key the client registered (jwks or
// jwks_uri), making a nested JWT (RFC 7519 §5.2).
const (
	// EncAlgRSAOAEP256 is RSA-OAEP with SHA-256 (RFC 7518 §4.3), to an RSA key.
	EncAlgRSAOAEP256 = "RSA-OAEP-256"
	// EncAlgECDHES is ECDH-ES direct key agreement (RFC 7518 §4.6), to an
	// EC key on P-256, P-384 or P-521.
	EncAlgECDHES = "ECDH-ES"
	// EncA256GCM is the one content encryption offered (RFC 7518 §5.3).
	EncA256GCM = "A256GCM"
)

// EncryptionAlgs and EncryptionEncs are what Relais encrypts with, for
// the discovery document; nothing else is accepted at registration.
var (
	EncryptionAlgs = []string{EncAlgRSAOAEP256, EncAlgECDHES}
	EncryptionEncs = []string{EncA256GCM}
)

// minRSABits: RFC 7518 §4.3 asks for RSA keys of 2048 bits or more.
const minRSABits = 2048

// EncryptsIDToken says whether the client's ID tokens are encrypted.
func (c *Client) EncryptsIDToken() bool { return c.IDTokenEncryptedResponseAlg != "" }

// EncryptsUserinfo says whether the client's userinfo answers are encrypted.
func (c *Client) EncryptsUserinfo() bool { return c.UserinfoEncryptedResponseAlg != "" }

// normalizeEncryption writes Registration §2's default: an alg without an
// enc means A128CBC-HS256 there, but Relais offers A256GCM only, so an
// alg alone means A256GCM (the one choice), written out.
func (c *Client) normalizeEncryption() {
	if c.IDTokenEncryptedResponseAlg != "" && c.IDTokenEncryptedResponseEnc == "" {
		c.IDTokenEncryptedResponseEnc = EncA256GCM
	}
	if c.UserinfoEncryptedResponseAlg != "" && c.UserinfoEncryptedResponseEnc == "" {
		c.UserinfoEncryptedResponseEnc = EncA256GCM
	}
}

// validEncryption checks each pair of settings, and that the client gave
// keys to encrypt to: a key set given inline must hold a usable key for
// each alg; one at jwks_uri is read when a token is issued.
func (c *Client) validEncryption() error {
	for _, p := range []struct{ what, algField, encField, alg, enc string }{
		{"ID token", "id_token_encrypted_response_alg", "id_token_encrypted_response_enc", c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc},
		{"userinfo", "userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc", c.UserinfoEncryptedResponseAlg, c.UserinfoEncryptedResponseEnc},
	} {
		if p.alg == "" {
			if p.enc != "" {
				// Registration §2: "If [the enc] is included, [the alg]
				// MUST also be provided."
				return invalid(p.encField, "%s encryption %q is given without its key algorithm (%s); Registration §2 needs both", p.what, p.enc, p.algField)
			}
			continue
		}
		if !slices.Contains(EncryptionAlgs, p.alg) {
			return invalid(p.algField, "%s encryption key algorithm %q is not offered; use RSA-OAEP-256 or ECDH-ES", p.what, p.alg)
		}
		if p.enc != EncA256GCM {
			return invalid(p.encField, "%s content encryption %q is not offered; use A256GCM", p.what, p.enc)
		}
		if c.JWKS == "" && c.JWKSURI == "" {
			return invalid(p.algField, "%s encryption (%s) needs the client's public keys (jwks or jwks_uri) to encrypt to, and none are given", p.what, p.alg)
		}
		if c.JWKS != "" {
			var set jose.JSONWebKeySet
			if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil {
				return invalid("jwks", "key set (jwks) is not a usable key set")
			}
			if _, ok := EncryptionKey(set.Keys, p.alg); !ok {
				return invalid("jwks", "key set (jwks) holds no key to encrypt %s answers with %s: it needs a public %s with use \"enc\" (or no use) and alg %s (or no alg)",
					p.what, p.alg, keyKind(p.alg), p.alg)
			}
		}
	}
	return nil
}

func keyKind(alg string) string {
	if alg == EncAlgECDHES {
		return "EC key on P-256, P-384 or P-521"
	}
	return "RSA key of 2048 bits or more"
}

// EncryptionKey picks, from a client's keys, the one to encrypt to with
// alg: a public key of alg's type whose use is "enc" or unset (RFC 7517
// §4.2) and whose alg, if set, is alg (§4.4). Keys marked "enc" come
// before keys without use; otherwise the key set's order decides. The
// registration check and the encryption itself both ask it, so a key set
// accepted at registration is the one used.
func EncryptionKey(keys []jose.JSONWebKey, alg string) (jose.JSONWebKey, bool) {
	for _, wantUse := range []string{"enc", ""} {
		for _, k := range keys {
			if k.Use != wantUse || k.Algorithm != "" && k.Algorithm != alg || !k.Valid() || !k.IsPublic() {
				continue
			}
			if keyFits(k.Key, alg) {
				return k, true
			}
		}
	}
	return jose.JSONWebKey{}, false
}

func keyFits(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == EncAlgRSAOAEP256 && k.N.BitLen() >= minRSABits
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return alg == EncAlgECDHES
		}
	}
	return false
}
