package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/relais-fr/relais/mandates"
)

// The algorithms Relais signs with. ES256 (RFC 7518 §3.4, P-256) is the
// default; RS256 (RFC 7518 §3.3) is kept because OpenID Connect Core §15.1
// makes it the one every relying party must accept.
const (
	ES256 = "ES256"
	RS256 = "RS256"
)

// SigningAlgs lists the algorithms Ensure keeps a key for.
var SigningAlgs = []string{ES256, RS256}

// rsaBits: RFC 7518 §3.3 requires 2048 bits or more.
const rsaBits = 2048

// KeyCacheTTL bounds how stale an instance's view of the key table may be.
// Rotate never lets a key sign sooner than this after it is written, so a
// cached list always picks the same key the store would (DESIGN.md §2).
const KeyCacheTTL = 3 * time.Second

// firstKeySkew backdates the first key of an algorithm, for clock skew
// between instances starting together.
const firstKeySkew = time.Minute

var (
	// ErrUnknownKey: no published signing key has this kid.
	ErrUnknownKey = errors.New("keyring: no published signing key has this kid")
	// ErrNoActiveKey: no key of the algorithm may sign now; Ensure creates one.
	ErrNoActiveKey = errors.New("keyring: no active signing key")
)

// SigningKey is one key of the provider's JWKS (RFC 7517), kept in the
// store so that every instance signs with the same key.
type SigningKey struct {
	ID  string // the JWK kid: random, URL-safe
	Alg string // ES256 or RS256
	// Generation numbers the keys of one Alg from 1; the store keeps it
	// unique per Alg, so two instances creating "the next key" at once
	// cannot both succeed.
	Generation int64
	Public     []byte // the public JWK as JSON
	Private    []byte // the PKCS #8 private key sealed by SecretBox under ID
	CreatedAt  time.Time
	// SignFrom is when the key starts signing. It is published before
	// then, so that relying parties caching the JWKS know it in time even
	// if they do not refetch on an unknown kid as OpenID Connect Core
	// §10.1.1 expects.
	SignFrom time.Time
	// RetiredAt is zero while the key may sign; otherwise the time it
	// stops, which is the next key's SignFrom.
	RetiredAt time.Time
	// PublishUntil is zero until the key is retired; then RetiredAt plus the
	// longest token lifetime: tokens it signed can be checked until they
	// expire, after which it leaves the JWKS.
	PublishUntil time.Time
}

// KeyStore keeps signing keys. It reports mandates.ErrNotFound, a
// *mandates.UniqueError on a taken id or (alg, generation), and
// mandates.ErrUnavailable.
type KeyStore interface {
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys returns every key, ordered by alg then generation.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKey runs fn on the stored key and saves the result in
	// one transaction; only RetiredAt and PublishUntil may change.
	UpdateSigningKey(ctx context.Context, id string, fn func(*SigningKey) error) (SigningKey, error)
}

// Validate reports the first field that breaks a rule.
func (k *SigningKey) Validate() error {
	switch {
	case !validKID(k.ID):
		return fmt.Errorf("%w: signing key id %q is not 1 to 64 URL-safe characters", mandates.ErrInvalid, k.ID)
	case k.Alg != ES256 && k.Alg != RS256:
		return fmt.Errorf("%w: signing key %s: unknown algorithm %q", mandates.ErrInvalid, k.ID, k.Alg)
	case k.Generation < 1:
		return fmt.Errorf("%w: signing key %s: generation %d, want 1 or more", mandates.ErrInvalid, k.ID, k.Generation)
	case len(k.Public) == 0 || len(k.Private) == 0:
		return fmt.Errorf("%w: signing key %s: missing key material", mandates.ErrInvalid, k.ID)
	case k.CreatedAt.IsZero() || k.SignFrom.IsZero():
		return fmt.Errorf("%w: signing key %s: created and sign-from times are required", mandates.ErrInvalid, k.ID)
	case k.RetiredAt.IsZero() && !k.PublishUntil.IsZero():
		return fmt.Errorf("%w: signing key %s: publish-until set on a key not retired", mandates.ErrInvalid, k.ID)
	case !k.PublishUntil.IsZero() && k.PublishUntil.Before(k.RetiredAt):
		return fmt.Errorf("%w: signing key %s: published until before it is retired", mandates.ErrInvalid, k.ID)
	}
	return nil
}

// validKID: RFC 7517 §4.5 leaves kid free-form; ours stays URL-safe
// (RFC 4648 §5) so it can appear in paths and logs unescaped.
func validKID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ApplySigningKeyUpdate is the part of KeyStore.UpdateSigningKey every store
// shares: it runs fn on a copy of old and refuses a change to anything but
// RetiredAt and PublishUntil: key material and start time are immutable,
// or instances could disagree on what a kid means.
func ApplySigningKeyUpdate(old SigningKey, fn func(*SigningKey) error) (SigningKey, error) {
	k := old
	k.Public, k.Private = slices.Clone(old.Public), slices.Clone(old.Private)
	if err := fn(&k); err != nil {
		return old, err
	}
	if k.ID != old.ID || k.Alg != old.Alg || k.Generation != old.Generation || !slices.Equal(k.Public, old.Public) ||
		!slices.Equal(k.Private, old.Private) || !k.CreatedAt.Equal(old.CreatedAt) || !k.SignFrom.Equal(old.SignFrom) {
		return old, fmt.Errorf("%w: only the retirement of signing key %s can change", mandates.ErrInvalid, old.ID)
	}
	k.RetiredAt, k.PublishUntil = utcMS(k.RetiredAt), utcMS(k.PublishUntil)
	if err := k.Validate(); err != nil {
		return old, err
	}
	return k, nil
}

// utcMS: both stores keep milliseconds, so times round-trip exactly.
func utcMS(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// Keys manages the provider's signing keys. All state lives in the store;
// the in-memory copy lasts KeyCacheTTL and never changes which key signs.
type Keys struct {
	store       KeyStore
	box         *SecretBox
	now         func() time.Time
	lead        time.Duration
	maxLifetime time.Duration

	mu       sync.Mutex
	cached   []keyEntry
	cachedAt time.Time
	signers  map[string]crypto.Signer // by kid; key material never changes
	also     []PublicKeySource
}

// PublicKeySource adds to the JWKS keys that never sign tokens (the
// journal's): Public lists them, Verifier, which checks tokens, never
// returns them.
type PublicKeySource interface {
	PublicKeys(ctx context.Context) ([]jose.JSONWebKey, error)
}

// PublishAlso adds src's keys to the JWKS. Call it before serving.
func (k *Keys) PublishAlso(src PublicKeySource) {
	k.mu.Lock()
	k.also = append(k.also, src)
	k.mu.Unlock()
}

type keyEntry struct {
	SigningKey
	jwk jose.JSONWebKey
}

// NewKeys returns a key manager. lead is how long a new key is published
// before it signs (1 h is a good default: longer than relying parties
// usually cache a JWKS); maxTokenLifetime is the longest lifetime of a
// token it signs, which is how long a retired key stays published. box
// may be nil for a Keys that only reads public data (Status, Public,
// Verifier).
func NewKeys(store KeyStore, box *SecretBox, now func() time.Time, lead, maxTokenLifetime time.Duration) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{store: store, box: box, now: now, lead: lead, maxLifetime: maxTokenLifetime, signers: map[string]crypto.Signer{}}
}

func (k *Keys) clock() time.Time { return utcMS(k.now()) }

// Ensure gives every algorithm of SigningAlgs a key that signs now, if it
// has none, and finishes a rotation cut short. Several instances may call
// it at once: the store keeps (alg, generation) unique, so exactly one
// first key is written and the others read it back. It also opens each
// active key, so a wrong RELAIS_SECRET_KEY is reported at start
// (ErrWrongSecretKey).
func (k *Keys) Ensure(ctx context.Context) error {
	defer k.invalidate()
	for _, alg := range SigningAlgs {
		if _, err := k.ensure(ctx, alg); err != nil {
			return err
		}
		k.invalidate()
		if _, _, err := k.Active(ctx, alg); err != nil {
			return fmt.Errorf("ensure %s key: %w", alg, err)
		}
	}
	return nil
}

// ensure returns the keys of alg, creating the first one if there is none.
func (k *Keys) ensure(ctx context.Context, alg string) ([]SigningKey, error) {
	for attempt := 0; ; attempt++ {
		of, err := k.keysOf(ctx, alg)
		if err != nil {
			return nil, err
		}
		if len(of) > 0 {
			newest := of[len(of)-1]
			changed, err := k.retireBefore(ctx, of, newest.Generation, newest.SignFrom)
			if err != nil || !changed {
				return of, err
			}
			return k.keysOf(ctx, alg)
		}
		now := k.clock()
		// The first key signs at once: no relying party holds a token of
		// this algorithm yet, so none can miss the key in a cached JWKS.
		// It is dated a little back so that an instance whose clock lags
		// the one that wrote it still finds it active.
		first, err := k.newKey(alg, 1, now, now.Add(-firstKeySkew))
		if err != nil {
			return nil, err
		}
		err = k.store.CreateSigningKey(ctx, first)
		switch {
		case err == nil:
			return []SigningKey{first}, nil
		case errors.Is(err, mandates.ErrAlreadyExists) && attempt == 0:
			continue // another instance wrote it first: use theirs
		default:
			return nil, fmt.Errorf("create first %s key: %w", alg, err)
		}
	}
}

// Rotate adds the next key of alg. It is published at once and signs from
// now + lead; the key it replaces is retired at that instant and stays
// published for the longest token lifetime after. If alg has no key yet,
// the current one is created first.
func (k *Keys) Rotate(ctx context.Context, alg string) (SigningKey, error) {
	if err := CheckAlg(alg); err != nil {
		return SigningKey{}, err
	}
	defer k.invalidate()
	of, err := k.ensure(ctx, alg)
	if err != nil {
		return SigningKey{}, fmt.Errorf("rotate %s: %w", alg, err)
	}
	newest := of[len(of)-1]
	// Refuse to add a key that the other keys' secret key cannot open:
	// instances started with the right key would fail on it.
	if _, err := k.open(newest); err != nil {
		return SigningKey{}, fmt.Errorf("rotate %s: %w", alg, err)
	}
	now := k.clock()
	next, err := k.newKey(alg, newest.Generation+1, now, now.Add(max(k.lead, KeyCacheTTL)))
	if err != nil {
		return SigningKey{}, err
	}
	if err := k.store.CreateSigningKey(ctx, next); err != nil {
		if errors.Is(err, mandates.ErrAlreadyExists) {
			return SigningKey{}, fmt.Errorf("rotate %s: another rotation was written at the same time: %w", alg, mandates.ErrConflict)
		}
		return SigningKey{}, fmt.Errorf("rotate %s: %w", alg, err)
	}
	// If this step fails, the next Ensure completes it.
	if _, err := k.retireBefore(ctx, of, next.Generation, next.SignFrom); err != nil {
		return next, fmt.Errorf("rotate %s: %w", alg, err)
	}
	return next, nil
}

// retireBefore retires, at the instant at, every key in of older than
// generation gen that would otherwise sign past that instant, and says
// whether it changed any.
func (k *Keys) retireBefore(ctx context.Context, of []SigningKey, gen int64, at time.Time) (bool, error) {
	changed := false
	for _, old := range of {
		if old.Generation >= gen || (!old.RetiredAt.IsZero() && !old.RetiredAt.After(at)) {
			continue
		}
		_, err := k.store.UpdateSigningKey(ctx, old.ID, func(s *SigningKey) error {
			if s.RetiredAt.IsZero() || s.RetiredAt.After(at) {
				s.RetiredAt = at
				// The last token this key signs must verify until its exp
				// (RFC 7519 §4.1.4), so the key stays in the JWKS that long.
				// An instance whose cache still holds the old key may sign
				// with it up to KeyCacheTTL past its retirement.
				s.PublishUntil = at.Add(k.maxLifetime + KeyCacheTTL)
			}
			return nil
		})
		if err != nil {
			return changed, fmt.Errorf("retire key %s: %w", old.ID, err)
		}
		changed = true
	}
	return changed, nil
}

// CheckAlg reports mandates.ErrInvalid unless tokens can be signed with
// alg (ES256 or RS256).
func CheckAlg(alg string) error {
	if alg != ES256 && alg != RS256 {
		return fmt.Errorf("%w: signing algorithm %q, want ES256 or RS256", mandates.ErrInvalid, alg)
	}
	return nil
}

// keysOf reads the keys of alg from the store, oldest first.
func (k *Keys) keysOf(ctx context.Context, alg string) ([]SigningKey, error) {
	all, err := k.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	var of []SigningKey
	for _, s := range all {
		if s.Alg == alg {
			of = append(of, s)
		}
	}
	slices.SortFunc(of, func(a, b SigningKey) int { return int(a.Generation - b.Generation) })
	return of, nil
}

func (k *Keys) newKey(alg string, gen int64, now, signFrom time.Time) (SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return SigningKey{}, CheckAlg(alg)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	kid := base64.RawURLEncoding.EncodeToString(b)
	pub, err := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		return SigningKey{}, fmt.Errorf("public %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("encode %s key: %w", alg, err)
	}
	sealed := k.box.Seal(kid, der)
	clear(der)
	return SigningKey{ID: kid, Alg: alg, Generation: gen, Public: pub, Private: sealed, CreatedAt: now, SignFrom: signFrom}, nil
}

func (k *Keys) invalidate() {
	k.mu.Lock()
	k.cached = nil
	k.mu.Unlock()
}

// entries returns the key table, from memory if read less than
// KeyCacheTTL ago.
func (k *Keys) entries(ctx context.Context, fresh bool) ([]keyEntry, error) {
	now := k.now()
	k.mu.Lock()
	if !fresh && k.cached != nil && !now.Before(k.cachedAt) && now.Sub(k.cachedAt) < KeyCacheTTL {
		c := k.cached
		k.mu.Unlock()
		return c, nil
	}
	k.mu.Unlock()
	all, err := k.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	out := make([]keyEntry, 0, len(all))
	for _, s := range all {
		e := keyEntry{SigningKey: s}
		if err := e.jwk.UnmarshalJSON(s.Public); err != nil {
			return nil, fmt.Errorf("signing key %s: stored public key: %w", s.ID, err)
		}
		if e.jwk.KeyID != s.ID || e.jwk.Algorithm != s.Alg || !e.jwk.IsPublic() {
			return nil, fmt.Errorf("signing key %s: stored public key does not match its record", s.ID)
		}
		out = append(out, e)
	}
	k.mu.Lock()
	k.cached, k.cachedAt = out, now
	k.mu.Unlock()
	return out, nil
}

// signsAt says whether s may sign at now.
func signsAt(s SigningKey, now time.Time) bool {
	return !s.SignFrom.After(now) && (s.RetiredAt.IsZero() || s.RetiredAt.After(now))
}

// publishedAt says whether s belongs in the JWKS at now.
func publishedAt(s SigningKey, now time.Time) bool {
	return s.PublishUntil.IsZero() || s.PublishUntil.After(now)
}

// active picks, among keys of alg that may sign now, the newest: the same
// answer on every instance that reads the same table.
func active(list []keyEntry, alg string, now time.Time) (keyEntry, bool) {
	var best keyEntry
	found := false
	for _, e := range list {
		if e.Alg == alg && signsAt(e.SigningKey, now) && (!found || e.Generation > best.Generation) {
			best, found = e, true
		}
	}
	return best, found
}

// Active returns the kid and private key that sign for alg now.
func (k *Keys) Active(ctx context.Context, alg string) (string, crypto.Signer, error) {
	if err := CheckAlg(alg); err != nil {
		return "", nil, err
	}
	list, err := k.entries(ctx, false)
	if err != nil {
		return "", nil, err
	}
	e, ok := active(list, alg, k.now())
	if !ok {
		return "", nil, fmt.Errorf("%s: %w", alg, ErrNoActiveKey)
	}
	signer, err := k.open(e.SigningKey)
	if err != nil {
		return "", nil, err
	}
	return e.ID, signer, nil
}

// open decrypts a key's private half, once per kid.
func (k *Keys) open(s SigningKey) (crypto.Signer, error) {
	k.mu.Lock()
	signer, ok := k.signers[s.ID]
	k.mu.Unlock()
	if ok {
		return signer, nil
	}
	if k.box == nil {
		return nil, fmt.Errorf("open signing key %s: no secret key was given", s.ID)
	}
	der, err := k.box.Open(s.ID, s.Private)
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: %w", s.ID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: %w", s.ID, err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(s.Public); err != nil {
		return nil, fmt.Errorf("open signing key %s: public key: %w", s.ID, err)
	}
	// The private half must be the one the JWKS publishes, of the stated
	// algorithm: RFC 7518 §3.4 ties ES256 to P-256.
	switch p := parsed.(type) {
	case *ecdsa.PrivateKey:
		ok = s.Alg == ES256 && p.Curve == elliptic.P256() && p.PublicKey.Equal(jwk.Key)
		signer = p
	case *rsa.PrivateKey:
		ok = s.Alg == RS256 && p.N.BitLen() >= rsaBits && p.PublicKey.Equal(jwk.Key)
		signer = p
	}
	if !ok {
		return nil, fmt.Errorf("open signing key %s: private key does not match its %s public key", s.ID, s.Alg)
	}
	k.mu.Lock()
	k.signers[s.ID] = signer
	k.mu.Unlock()
	return signer, nil
}

// Public returns the JWKS to serve (RFC 7517 §5): every key not yet past
// PublishUntil, including keys that will sign soon.
func (k *Keys) Public(ctx context.Context) (jose.JSONWebKeySet, error) {
	list, err := k.entries(ctx, false)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	now := k.now()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, e := range list {
		if publishedAt(e.SigningKey, now) {
			set.Keys = append(set.Keys, e.jwk)
		}
	}
	k.mu.Lock()
	also := k.also
	k.mu.Unlock()
	for _, src := range also {
		keys, err := src.PublicKeys(ctx)
		if err != nil {
			return jose.JSONWebKeySet{}, err
		}
		set.Keys = append(set.Keys, keys...)
	}
	return set, nil
}

// Verifier returns the public key a token with header kid is checked
// with, if that key is still published. An unknown kid is looked up in the
// store once more, in case the table changed since it was cached.
func (k *Keys) Verifier(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	for _, fresh := range []bool{false, true} {
		list, err := k.entries(ctx, fresh)
		if err != nil {
			return jose.JSONWebKey{}, err
		}
		now := k.now()
		for _, e := range list {
			if e.ID == kid && publishedAt(e.SigningKey, now) {
				return e.jwk, nil
			}
		}
	}
	return jose.JSONWebKey{}, fmt.Errorf("kid %q: %w", kid, ErrUnknownKey)
}

// KeyState is what a key does at a given time, for operators.
type KeyState string

const (
	KeyNext      KeyState = "next"      // published, signs later
	KeySigning   KeyState = "signing"   // signs now
	KeyPublished KeyState = "published" // does not sign (any more), still in the JWKS
	KeyWithdrawn KeyState = "withdrawn" // out of the JWKS
)

// KeyStatus is a key with its state at the time of the listing.
type KeyStatus struct {
	SigningKey
	State KeyState
}

// Status lists every key, read from the store, with its state now.
func (k *Keys) Status(ctx context.Context) ([]KeyStatus, error) {
	list, err := k.entries(ctx, true)
	if err != nil {
		return nil, err
	}
	now := k.now()
	signing := map[string]bool{}
	for _, alg := range SigningAlgs {
		if e, ok := active(list, alg, now); ok {
			signing[e.ID] = true
		}
	}
	out := make([]KeyStatus, 0, len(list))
	for _, e := range list {
		st := KeyPublished
		switch {
		case signing[e.ID]:
			st = KeySigning
		case !publishedAt(e.SigningKey, now):
			st = KeyWithdrawn
		case e.SignFrom.After(now) && (e.RetiredAt.IsZero() || e.RetiredAt.After(e.SignFrom)):
			st = KeyNext // a key replaced before its turn never signs
		}
		out = append(out, KeyStatus{SigningKey: e.SigningKey, State: st})
	}
	return out, nil
}
