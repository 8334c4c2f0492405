package storagetest

import (
	"testing"

	"github.com/relais-fr/relais/authz/oauth"
)

// clientEncJWKS is one public P-256 key for encryption (use enc), as a
// site registers it for encrypted ID tokens and userinfo answers.
const clientEncJWKS = `{"keys":[{"use":"enc","kty":"EC","kid":"caf-enc-2026","crv":"P-256",` +
	`"x":"T95KPUhq3ko2LJyRTGwopJp5wlDjeCHX35WUeXAQi64","y":"B3yfYxpALECBTvi34TY7cIv3d4Aat91Rpx9Vz_c59_A"}]}`

// testClientEncryption: the four encryption settings of OIDC Registration
// §2 are kept on create and on update, the enc written out when only the
// alg was given, and a client registered without them has none.
func testClientEncryption(t *testing.T, s Store) {
	ctx := t.Context()
	c := newClient("jwe-site")
	c.JWKS = clientEncJWKS
	c.IDTokenEncryptedResponseAlg = oauth.EncAlgECDHES
	c.UserinfoEncryptedResponseAlg = oauth.EncAlgECDHES
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	got, err := s.Client(ctx, c.ID)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	sameClient(t, got, c)
	if got.IDTokenEncryptedResponseAlg != oauth.EncAlgECDHES || got.IDTokenEncryptedResponseEnc != oauth.EncA256GCM ||
		got.UserinfoEncryptedResponseAlg != oauth.EncAlgECDHES || got.UserinfoEncryptedResponseEnc != oauth.EncA256GCM {
		t.Errorf("read back: %q/%q and %q/%q, want ECDH-ES/A256GCM for both", got.IDTokenEncryptedResponseAlg, got.IDTokenEncryptedResponseEnc,
			got.UserinfoEncryptedResponseAlg, got.UserinfoEncryptedResponseEnc)
	}
	updated, err := s.UpdateClient(ctx, c.ID, func(c *oauth.Client) error {
		c.UserinfoEncryptedResponseAlg, c.UserinfoEncryptedResponseEnc = "", ""
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	got, err = s.Client(ctx, c.ID)
	if err != nil {
		t.Fatalf("Client after the update: %v", err)
	}
	sameClient(t, got, updated)
	if got.UserinfoEncryptedResponseAlg != "" || got.UserinfoEncryptedResponseEnc != "" || got.IDTokenEncryptedResponseAlg != oauth.EncAlgECDHES {
		t.Errorf("after the update: ID token %q, userinfo %q/%q; want ECDH-ES and nothing", got.IDTokenEncryptedResponseAlg,
			got.UserinfoEncryptedResponseAlg, got.UserinfoEncryptedResponseEnc)
	}
	// An update that would leave the alg without a key to encrypt to is
	// refused, and the stored client stays as it was.
	if _, err := s.UpdateClient(ctx, c.ID, func(c *oauth.Client) error { c.JWKS = clientJWKS; return nil }); err == nil {
		t.Error("an update to a key set with no encryption key was accepted")
	}
	if again, err := s.Client(ctx, c.ID); err != nil || again.JWKS != clientEncJWKS {
		t.Errorf("after a refused update: jwks %q (%v), want the encryption key kept", again.JWKS, err)
	}
	plain := newClient("plain-site")
	if err := s.CreateClient(ctx, plain); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if got, err := s.Client(ctx, plain.ID); err != nil || got.EncryptsIDToken() || got.EncryptsUserinfo() || got.IDTokenEncryptedResponseEnc != "" {
		t.Errorf("a client registered without encryption: %+v (%v)", got, err)
	}
}
