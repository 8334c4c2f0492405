package authz

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// JournalKeyPrefix starts the kid of every journal key, so that a reader
// of the JWKS sees which keys sign the journal's checkpoints.
const JournalKeyPrefix = "journal-"

// JournalKey signs the journal's checkpoints (DESIGN.md §5). It is
// published in the JWKS beside the token keys but kept in a table of its
// own, so it never signs a token and a token signed with it never
// verifies (Keys.Verifier does not know it). Journal keys stay published
// for ever: old checkpoints must still verify.
type JournalKey struct {
	ID         string // JournalKeyPrefix and 22 random URL-safe characters
	Generation int64  // 1, 2…; the newest signs
	Public     []byte // the public JWK as JSON (ES256, use sig)
	Private    []byte // the PKCS #8 private key sealed by SecretBox under ID
	CreatedAt  time.Time
}

// JournalKeyStore keeps journal keys; a taken id or generation is a
// *mandates.UniqueError.
type JournalKeyStore interface {
	CreateJournalKey(ctx context.Context, k JournalKey) error
	// JournalKeys returns every journal key by generation.
	JournalKeys(ctx context.Context) ([]JournalKey, error)
}

// Validate reports the first field that breaks a rule.
func (k *JournalKey) Validate() error {
	switch {
	case !strings.HasPrefix(k.ID, JournalKeyPrefix) || !validKID(k.ID):
		return fmt.Errorf("%w: journal key id %q", mandates.ErrInvalid, k.ID)
	case k.Generation < 1:
		return fmt.Errorf("%w: journal key %s: generation %d, want 1 or more", mandates.ErrInvalid, k.ID, k.Generation)
	case len(k.Public) == 0 || len(k.Private) == 0:
		return fmt.Errorf("%w: journal key %s: missing key material", mandates.ErrInvalid, k.ID)
	case k.CreatedAt.IsZero():
		return fmt.Errorf("%w: journal key %s: created time is required", mandates.ErrInvalid, k.ID)
	}
	return nil
}

// JournalKeys signs checkpoints with the newest journal key and publishes
// every journal key. It implements journal.Signer and PublicKeySource.
type JournalKeys struct {
	store JournalKeyStore
	box   *SecretBox
	now   func() time.Time

	mu       sync.Mutex
	cached   []jose.JSONWebKey
	cachedAt time.Time
}

var (
	_ journal.Signer  = (*JournalKeys)(nil)
	_ PublicKeySource = (*JournalKeys)(nil)
)

// NewJournalKeys returns the journal's keys; box may be nil for one that
// only publishes.
func NewJournalKeys(store JournalKeyStore, box *SecretBox, now func() time.Time) *JournalKeys {
	if now == nil {
		now = time.Now
	}
	return &JournalKeys{store: store, box: box, now: now}
}

// Ensure creates the first journal key if there is none, and checks the
// newest opens with this secret key. Instances starting together write
// one key: the generation is unique.
func (j *JournalKeys) Ensure(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		all, err := j.store.JournalKeys(ctx)
		if err != nil {
			return fmt.Errorf("list journal keys: %w", err)
		}
		if len(all) > 0 {
			_, err := j.open(all[len(all)-1])
			return err
		}
		k, err := j.newKey(1)
		if err != nil {
			return err
		}
		err = j.store.CreateJournalKey(ctx, k)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, mandates.ErrAlreadyExists) && attempt == 0:
			continue
		default:
			return fmt.Errorf("create the journal key: %w", err)
		}
	}
}

func (j *JournalKeys) newKey(gen int64) (JournalKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return JournalKey{}, fmt.Errorf("generate journal key: %w", err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	kid := JournalKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	pub, err := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: ES256, Use: "sig"}.MarshalJSON()
	if err != nil {
		return JournalKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return JournalKey{}, err
	}
	defer clear(der)
	if j.box == nil {
		return JournalKey{}, errors.New("create journal key: no secret key was given")
	}
	return JournalKey{ID: kid, Generation: gen, Public: pub, Private: j.box.Seal(kid, der), CreatedAt: utcMS(j.now())}, nil
}

// open decrypts a journal key and checks it is the P-256 key it publishes.
func (j *JournalKeys) open(k JournalKey) (*ecdsa.PrivateKey, error) {
	if j.box == nil {
		return nil, fmt.Errorf("open journal key %s: no secret key was given", k.ID)
	}
	der, err := j.box.Open(k.ID, k.Private)
	if err != nil {
		return nil, fmt.Errorf("open journal key %s: %w", k.ID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("open journal key %s: %w", k.ID, err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(k.Public); err != nil {
		return nil, fmt.Errorf("open journal key %s: public key: %w", k.ID, err)
	}
	p, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || p.Curve != elliptic.P256() || !p.PublicKey.Equal(jwk.Key) {
		return nil, fmt.Errorf("open journal key %s: private key does not match its public key", k.ID)
	}
	return p, nil
}

// Sign implements journal.Signer: a compact JWS (RFC 7515 §7.1), ES256,
// with the kid of the newest journal key and typ
// journal.PayloadType in its protected header.
func (j *JournalKeys) Sign(ctx context.Context, payload []byte) (string, error) {
	all, err := j.store.JournalKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("list journal keys: %w", err)
	}
	if len(all) == 0 {
		return "", errors.New("no journal key: relais serve creates it at start")
	}
	k := all[len(all)-1]
	priv, err := j.open(k)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(journal.PayloadType)))
	if err != nil {
		return "", fmt.Errorf("journal key %s: %w", k.ID, err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("journal key %s: %w", k.ID, err)
	}
	return obj.CompactSerialize()
}

// PublicKeys implements PublicKeySource: every journal key, read from the
// store at most every KeyCacheTTL.
func (j *JournalKeys) PublicKeys(ctx context.Context) ([]jose.JSONWebKey, error) {
	now := j.now()
	j.mu.Lock()
	if j.cached != nil && !now.Before(j.cachedAt) && now.Sub(j.cachedAt) < KeyCacheTTL {
		c := j.cached
		j.mu.Unlock()
		return c, nil
	}
	j.mu.Unlock()
	all, err := j.store.JournalKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list journal keys: %w", err)
	}
	out := make([]jose.JSONWebKey, 0, len(all))
	for _, k := range all {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k.Public); err != nil || jwk.KeyID != k.ID || !jwk.IsPublic() {
			return nil, fmt.Errorf("journal key %s: stored public key does not match its record", k.ID)
		}
		out = append(out, jwk)
	}
	j.mu.Lock()
	j.cached, j.cachedAt = out, now
	j.mu.Unlock()
	return out, nil
}

// Verifier returns a verifier over the journal keys in the store.
func (j *JournalKeys) Verifier(ctx context.Context) (*JournalVerifier, error) {
	keys, err := j.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	return NewJournalVerifier(jose.JSONWebKeySet{Keys: keys}), nil
}

// JournalVerifier checks checkpoint signatures against a published JWK
// set (the /jwks document), which is all an offline verifier has.
type JournalVerifier struct {
	set jose.JSONWebKeySet
}

var _ journal.SignatureVerifier = (*JournalVerifier)(nil)

// NewJournalVerifier uses the journal keys of set; token keys in it are
// ignored.
func NewJournalVerifier(set jose.JSONWebKeySet) *JournalVerifier {
	return &JournalVerifier{set: jose.JSONWebKeySet{Keys: slices.DeleteFunc(slices.Clone(set.Keys), func(k jose.JSONWebKey) bool {
		return !strings.HasPrefix(k.KeyID, JournalKeyPrefix) || !k.IsPublic()
	})}}
}

// VerifyJWS implements journal.SignatureVerifier: ES256 only (an
// allow-list, RFC 8725 §3.1), typ journal.PayloadType, a kid among the
// journal keys.
func (v *JournalVerifier) VerifyJWS(s string) ([]byte, error) {
	obj, err := jose.ParseSigned(s, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("not an ES256 JWS: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != journal.PayloadType {
		return nil, fmt.Errorf("typ %q, want %q", typ, journal.PayloadType)
	}
	keys := v.set.Key(h.KeyID)
	if len(keys) == 0 {
		return nil, fmt.Errorf("kid %q is not a published journal key", h.KeyID)
	}
	payload, err := obj.Verify(keys[0])
	if err != nil {
		return nil, fmt.Errorf("kid %q: %w", h.KeyID, err)
	}
	return payload, nil
}
