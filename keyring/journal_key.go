package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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
//
// A row of journal_keys is trusted only if its sealed private key opens
// under the deployment's secret key and is the private half of the
// public key beside it: whoever writes to the database without the
// secret key can add a row, never a trusted one. The keys form a history
// (docs/journal.md): each one's Endorsement is signed by the key before
// it (the first by itself) and names the latest checkpoint of the time.
type JournalKey struct {
	ID         string // JournalKeyPrefix and 22 random URL-safe characters
	Generation int64  // 1, 2…; the newest signs
	Public     []byte // the public JWK as JSON (ES256, use sig)
	// Private is the PKCS #8 private key sealed by SecretBox under
	// sealID: the id, and the endorsement's hash once there is one, so
	// that the endorsement can be neither blanked nor swapped.
	Private []byte
	// Endorsement is a compact JWS (ES256, typ KeyEndorsementType) of a
	// KeyStatement. Empty only for a generation-1 key no checkpoint
	// names yet: it is endorsed once checkpoint 1 exists.
	Endorsement string
	CreatedAt   time.Time
}

// KeyEndorsementType is the JWS and payload "typ" of an endorsement.
const KeyEndorsementType = "relais-journal-key"

// KeyStatement is what an endorsement signs: this key, its place in the
// history, and the checkpoint that was the latest when it was endorsed.
type KeyStatement struct {
	Typ            string       `json:"typ"` // KeyEndorsementType
	Version        int          `json:"v"`   // 1
	KeyID          string       `json:"kid"`
	Generation     int64        `json:"generation"`
	Thumbprint     string       `json:"jkt"`        // RFC 7638 SHA-256 thumbprint of the public key, base64url
	Checkpoint     int64        `json:"checkpoint"` // 0 when none was signed yet
	CheckpointHash journal.Hash `json:"checkpoint_hash"`
}

// UntrustedKeyError names a journal key the deployment did not make, or
// whose place in the history was changed.
type UntrustedKeyError struct {
	ID         string
	Generation int64
	Reason     string
}

func (e *UntrustedKeyError) Error() string {
	return fmt.Sprintf("journal key %s (generation %d) is not trusted: %s", e.ID, e.Generation, e.Reason)
}

// JournalKeyStore keeps journal keys; a taken id or generation is a
// *mandates.UniqueError.
type JournalKeyStore interface {
	CreateJournalKey(ctx context.Context, k JournalKey) error
	// JournalKeys returns every journal key by generation.
	JournalKeys(ctx context.Context) ([]JournalKey, error)
	// EndorseJournalKey sets the endorsement of key id and its private
	// key sealed again with it, if it has no endorsement yet; it says
	// whether it did.
	EndorseJournalKey(ctx context.Context, id, endorsement string, private []byte) (bool, error)
	// Checkpoints is journal.Reader's: the history names checkpoints.
	Checkpoints(ctx context.Context) ([]journal.Checkpoint, error)
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

// sealID is the record name the private key is sealed under.
func (k *JournalKey) sealID() string {
	if k.Endorsement == "" {
		return k.ID
	}
	h := sha256.Sum256([]byte(k.Endorsement))
	return k.ID + "#" + hex.EncodeToString(h[:])
}

// JournalKeys signs checkpoints with the newest journal key and publishes
// every trusted journal key. It implements journal.Signer and
// PublicKeySource. Every use needs the secret key: it is what tells the
// deployment's keys from rows added to the database.
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

// NewJournalKeys returns the journal's keys.
func NewJournalKeys(store JournalKeyStore, box *SecretBox, now func() time.Time) *JournalKeys {
	if now == nil {
		now = time.Now
	}
	return &JournalKeys{store: store, box: box, now: now}
}

// trustedKey is a journal key whose place in the history was checked.
type trustedKey struct {
	JournalKey
	priv   *ecdsa.PrivateKey
	jwk    jose.JSONWebKey
	anchor journal.Anchor // Number 0: it names no checkpoint
}

// history checks every key in generation order and returns the trusted
// ones up to the first that is not, with an *UntrustedKeyError naming
// it. A generation-1 key sealed under another secret key is reported as
// ErrWrongSecretKey: most likely RELAIS_SECRET_KEY is not this
// deployment's.
func (j *JournalKeys) history(all []JournalKey) ([]trustedKey, error) {
	if j.box == nil {
		return nil, errors.New("journal keys: no secret key was given (RELAIS_SECRET_KEY tells the deployment's journal keys from rows added to the database)")
	}
	out := make([]trustedKey, 0, len(all))
	for i, k := range all {
		untrusted := func(format string, args ...any) ([]trustedKey, error) {
			return out, &UntrustedKeyError{ID: k.ID, Generation: k.Generation, Reason: fmt.Sprintf(format, args...)}
		}
		if want := int64(i + 1); k.Generation != want {
			return untrusted("the history has no key of generation %d before it: a key was deleted", want)
		}
		priv, jwk, err := j.open(k)
		switch {
		case errors.Is(err, ErrWrongSecretKey) && i == 0:
			return out, fmt.Errorf("open journal key %s: %w", k.ID, err)
		case errors.Is(err, ErrWrongSecretKey):
			return untrusted("its private key was sealed under another secret key: this deployment did not make it")
		case errors.Is(err, ErrSealedCorrupt) && k.Endorsement == "":
			return untrusted("its private key does not open under the secret key: it was altered, copied from another key, or its endorsement was removed")
		case errors.Is(err, ErrSealedCorrupt):
			return untrusted("its private key does not open under the secret key with this endorsement: it was altered, copied from another key, or its endorsement was changed")
		case err != nil:
			return untrusted("%v", err)
		}
		t := trustedKey{JournalKey: k, priv: priv, jwk: jwk}
		if k.Endorsement == "" {
			if i > 0 {
				return untrusted("it is not endorsed by the key before it")
			}
			out = append(out, t)
			continue
		}
		by := &t
		if i > 0 {
			by = &out[i-1]
		}
		st, err := checkEndorsement(&t, by)
		if err != nil {
			return untrusted("%v", err)
		}
		if st.Checkpoint > 0 {
			t.anchor = journal.Anchor{KeyID: k.ID, Number: st.Checkpoint, Hash: st.CheckpointHash}
		}
		out = append(out, t)
	}
	return out, nil
}

func thumbprint(jwk jose.JSONWebKey) (string, error) {
	b, err := jwk.Thumbprint(crypto.SHA256) // RFC 7638 §3
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// checkEndorsement checks k's endorsement was signed by by (the key
// before it, or k itself for generation 1) and names k.
func checkEndorsement(k, by *trustedKey) (KeyStatement, error) {
	var st KeyStatement
	obj, err := jose.ParseSigned(k.Endorsement, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(obj.Signatures) != 1 {
		return st, errors.New("its endorsement is not an ES256 JWS")
	}
	h := obj.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != KeyEndorsementType {
		return st, fmt.Errorf("its endorsement has typ %q, want %q", typ, KeyEndorsementType)
	}
	if h.KeyID != by.ID {
		return st, fmt.Errorf("its endorsement is signed by %q, not by %s", h.KeyID, by.ID)
	}
	raw, err := obj.Verify(&by.priv.PublicKey)
	if err != nil {
		return st, fmt.Errorf("its endorsement does not verify with %s", by.ID)
	}
	jkt, err := thumbprint(k.jwk)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil || st.Typ != KeyEndorsementType || st.Version != 1 ||
		st.KeyID != k.ID || st.Generation != k.Generation || st.Thumbprint != jkt {
		return st, errors.New("its endorsement names another key or another place in the history")
	}
	return st, nil
}

// endorse makes k's endorsement, signed by by (nil: by k itself), naming
// checkpoint cp (nil: none), and seals k's private key again under it.
func (j *JournalKeys) endorse(k *JournalKey, priv *ecdsa.PrivateKey, by *trustedKey, cp *journal.Checkpoint) error {
	jwk := jose.JSONWebKey{Key: priv.Public(), KeyID: k.ID, Algorithm: ES256, Use: "sig"}
	jkt, err := thumbprint(jwk)
	if err != nil {
		return err
	}
	st := KeyStatement{Typ: KeyEndorsementType, Version: 1, KeyID: k.ID, Generation: k.Generation, Thumbprint: jkt}
	if cp != nil {
		if st.CheckpointHash, err = cp.PayloadHash(); err != nil {
			return err
		}
		st.Checkpoint = cp.Number
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return err
	}
	signKey, signID := priv, k.ID
	if by != nil {
		signKey, signID = by.priv, by.ID
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: signKey, KeyID: signID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(KeyEndorsementType)))
	if err != nil {
		return err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return err
	}
	if k.Endorsement, err = obj.CompactSerialize(); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	defer clear(der)
	k.Private = j.box.Seal(k.sealID(), der)
	return nil
}

// anchorFirst endorses the generation-1 key, naming checkpoint 1, if it
// has no endorsement yet and checkpoint 1 exists (keys made before
// endorsements, and a new deployment's key once its first checkpoint is
// signed). Checkpoint 1 is written before, never after: a crash in
// between leaves a key to endorse at the next start, never a key naming
// a checkpoint that does not exist.
func (j *JournalKeys) anchorFirst(ctx context.Context, first trustedKey, cps []journal.Checkpoint) error {
	if first.Endorsement != "" || len(cps) == 0 || cps[0].Number != 1 {
		return nil
	}
	k := first.JournalKey
	if err := j.endorse(&k, first.priv, nil, &cps[0]); err != nil {
		return fmt.Errorf("endorse journal key %s: %w", k.ID, err)
	}
	// false: another instance endorsed it first; its endorsement stands.
	if _, err := j.store.EndorseJournalKey(ctx, k.ID, k.Endorsement, k.Private); err != nil {
		return fmt.Errorf("endorse journal key %s: %w", k.ID, err)
	}
	return nil
}

// EndorseFirst endorses the first journal key, naming checkpoint 1, if
// it is not yet and checkpoint 1 exists: relais serve calls it after each
// checkpoint it signs, so that from checkpoint 1 on, deleting the
// checkpoints is found. It reads the checkpoints only while the key is
// not endorsed.
func (j *JournalKeys) EndorseFirst(ctx context.Context) error {
	hist, err := j.trusted(ctx)
	if err != nil || len(hist) == 0 || hist[0].Endorsement != "" {
		return err
	}
	cps, err := j.store.Checkpoints(ctx)
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	return j.anchorFirst(ctx, hist[0], cps)
}

// Ensure creates the first journal key if there is none; otherwise it
// checks the whole history opens with this secret key, endorses the
// first key once checkpoint 1 exists, and checks every checkpoint the
// history names is still stored. Instances starting together write one
// key: the generation is unique. Any error means: do not sign with these
// keys (relais serve refuses to start).
func (j *JournalKeys) Ensure(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		all, err := j.store.JournalKeys(ctx)
		if err != nil {
			return fmt.Errorf("list journal keys: %w", err)
		}
		cps, err := j.store.Checkpoints(ctx)
		if err != nil {
			return fmt.Errorf("read checkpoints: %w", err)
		}
		if len(all) > 0 {
			hist, err := j.history(all)
			if err != nil {
				return err
			}
			if err := j.anchorFirst(ctx, hist[0], cps); err != nil {
				return err
			}
			if f := journal.CheckAnchors(cps, anchors(hist)); f != nil {
				return f
			}
			return nil
		}
		if len(cps) > 0 {
			return fmt.Errorf("the journal holds %d checkpoints but no journal key: the journal keys were deleted", len(cps))
		}
		k, _, err := j.newKey(1)
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

// Rotate adds the next journal key, endorsed by the newest one and
// naming the latest checkpoint; it signs from the next checkpoint on.
func (j *JournalKeys) Rotate(ctx context.Context) (JournalKey, error) {
	all, err := j.store.JournalKeys(ctx)
	if err != nil {
		return JournalKey{}, fmt.Errorf("list journal keys: %w", err)
	}
	if len(all) == 0 {
		return JournalKey{}, errors.New("no journal key to rotate: relais serve creates the first at start")
	}
	hist, err := j.history(all)
	if err != nil {
		return JournalKey{}, err
	}
	cps, err := j.store.Checkpoints(ctx)
	if err != nil {
		return JournalKey{}, fmt.Errorf("read checkpoints: %w", err)
	}
	if f := journal.CheckAnchors(cps, anchors(hist)); f != nil {
		return JournalKey{}, f
	}
	if err := j.anchorFirst(ctx, hist[0], cps); err != nil {
		return JournalKey{}, err
	}
	k, priv, err := j.newKey(int64(len(hist) + 1))
	if err != nil {
		return JournalKey{}, err
	}
	var latest *journal.Checkpoint
	if len(cps) > 0 {
		latest = &cps[len(cps)-1]
	}
	if err := j.endorse(&k, priv, &hist[len(hist)-1], latest); err != nil {
		return JournalKey{}, fmt.Errorf("endorse journal key %s: %w", k.ID, err)
	}
	if err := j.store.CreateJournalKey(ctx, k); err != nil {
		if errors.Is(err, mandates.ErrAlreadyExists) {
			return JournalKey{}, fmt.Errorf("another journal key of generation %d was written at the same time: %w", k.Generation, mandates.ErrConflict)
		}
		return JournalKey{}, fmt.Errorf("create journal key: %w", err)
	}
	return k, nil
}

func anchors(hist []trustedKey) []journal.Anchor {
	var out []journal.Anchor
	for _, k := range hist {
		if k.anchor.Number > 0 {
			out = append(out, k.anchor)
		}
	}
	return out
}

func (j *JournalKeys) newKey(gen int64) (JournalKey, *ecdsa.PrivateKey, error) {
	if j.box == nil {
		return JournalKey{}, nil, errors.New("create journal key: no secret key was given")
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return JournalKey{}, nil, fmt.Errorf("generate journal key: %w", err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	kid := JournalKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	pub, err := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: ES256, Use: "sig"}.MarshalJSON()
	if err != nil {
		return JournalKey{}, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return JournalKey{}, nil, err
	}
	defer clear(der)
	k := JournalKey{ID: kid, Generation: gen, Public: pub, CreatedAt: utcMS(j.now())}
	k.Private = j.box.Seal(k.sealID(), der)
	return k, priv, nil
}

// open decrypts a journal key and checks it is the P-256 key it publishes.
func (j *JournalKeys) open(k JournalKey) (*ecdsa.PrivateKey, jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	der, err := j.box.Open(k.sealID(), k.Private)
	if err != nil {
		return nil, jwk, err
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, jwk, fmt.Errorf("its private key is not PKCS #8: %w", err)
	}
	if err := jwk.UnmarshalJSON(k.Public); err != nil || jwk.KeyID != k.ID || !jwk.IsPublic() {
		return nil, jwk, errors.New("its public key is not a public JWK with its id")
	}
	p, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || p.Curve != elliptic.P256() || !p.PublicKey.Equal(jwk.Key) {
		return nil, jwk, errors.New("its private key does not match its public key")
	}
	return p, jwk, nil
}

// trusted reads the keys and checks their history.
func (j *JournalKeys) trusted(ctx context.Context) ([]trustedKey, error) {
	all, err := j.store.JournalKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list journal keys: %w", err)
	}
	return j.history(all)
}

// Sign implements journal.Signer: a compact JWS (RFC 7515 §7.1), ES256,
// with the kid of the newest journal key and typ journal.PayloadType in
// its protected header. It refuses while any key is untrusted, and
// refuses a checkpoint numbered at or below one the history names: the
// checkpoints were deleted, and signing a new checkpoint 1 would seal
// whatever the database now holds.
func (j *JournalKeys) Sign(ctx context.Context, payload []byte) (string, error) {
	hist, err := j.trusted(ctx)
	if err != nil {
		return "", err
	}
	if len(hist) == 0 {
		return "", errors.New("no journal key: relais serve creates it at start")
	}
	var p journal.Payload
	_ = json.Unmarshal(payload, &p)
	for _, a := range anchors(hist) {
		if p.Number <= a.Number {
			return "", &journal.Failure{Checkpoint: a.Number, Kind: journal.Restarted, Reason: fmt.Sprintf(
				"no checkpoint %d signed: journal key %s names checkpoint %d, so checkpoints were deleted; run relais journal verify", p.Number, a.KeyID, a.Number)}
		}
	}
	if p.Number >= 2 && hist[0].Endorsement == "" {
		cps, err := j.store.Checkpoints(ctx)
		if err != nil {
			return "", fmt.Errorf("read checkpoints: %w", err)
		}
		if err := j.anchorFirst(ctx, hist[0], cps); err != nil {
			return "", err
		}
	}
	k := hist[len(hist)-1]
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.ID}},
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

// PublicKeys implements PublicKeySource: the trusted journal keys, read
// from the store at most every KeyCacheTTL. A key that is not trusted,
// and every key after it, is left out: /jwks never lends it the
// issuer's name.
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
	if j.box == nil {
		return nil, errors.New("journal keys: no secret key was given to tell trusted keys")
	}
	hist, _ := j.history(all) // the trusted ones; relais serve refused to start on the rest
	out := make([]jose.JSONWebKey, 0, len(hist))
	for _, k := range hist {
		out = append(out, k.jwk)
	}
	j.mu.Lock()
	j.cached, j.cachedAt = out, now
	j.mu.Unlock()
	return out, nil
}

// Verifier returns a verifier over the trusted journal keys in the
// store, with the checkpoints their history names; an untrusted key is
// an *UntrustedKeyError.
func (j *JournalKeys) Verifier(ctx context.Context) (*JournalVerifier, error) {
	hist, err := j.trusted(ctx)
	if err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{}
	for _, k := range hist {
		set.Keys = append(set.Keys, k.jwk)
	}
	v := NewJournalVerifier(set)
	v.anchors = anchors(hist)
	return v, nil
}

// JournalVerifier checks checkpoint signatures against a published JWK
// set (the /jwks document), which is all an offline verifier has.
type JournalVerifier struct {
	set     jose.JSONWebKeySet
	anchors []journal.Anchor
}

var _ journal.Anchored = (*JournalVerifier)(nil)

// Anchors implements journal.Anchored: the checkpoints the keys' history
// names (none for a verifier made from a JWK set).
func (v *JournalVerifier) Anchors() []journal.Anchor { return v.anchors }

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
