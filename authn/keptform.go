package authn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/relais-fr/relais/keyring"
)

// A form a person sends after their session ended is not lost: its values
// are sealed (AES-256-GCM under RELAIS_SECRET_KEY, through keyring's
// SecretBox), kept by the browser, and shown again, filled, on the same
// page after the new login. Nothing is kept in memory, so another instance
// can finish it. The sealed form only fills a form in: it never acts.

// KeptFormTTL is how long a kept form can be opened: enough to sign in
// again, with the second factor.
const KeptFormTTL = 20 * time.Minute

// MaxKeptFormBytes bounds what is kept (the values as JSON, before
// sealing): sealed and in base64 it fits one cookie (RFC 6265 §6.1 asks
// browsers for 4096 bytes per cookie, name and value).
const MaxKeptFormBytes = 2800

// KeptReason says why a form was kept, so the page says the right thing.
type KeptReason string

const (
	// KeptSessionEnded: sent after the session ended, kept through the
	// new login.
	KeptSessionEnded KeptReason = "session"
	// KeptLanguage: the person switched language while filling it in.
	KeptLanguage KeptReason = "lang"
)

var (
	// ErrKeptFormTooLarge: the form is larger than MaxKeptFormBytes.
	ErrKeptFormTooLarge = errors.New("authn: form too large to keep")
	// ErrKeptFormExpired: the form was kept more than KeptFormTTL ago.
	ErrKeptFormExpired = errors.New("authn: kept form expired")
	// ErrKeptFormAltered: the sealed form does not open for this page: it
	// was altered, cut, sealed for another page or under another key.
	ErrKeptFormAltered = errors.New("authn: kept form altered or for another page")
)

// KeptForm is a form's values kept for the page at Path.
type KeptForm struct {
	Path   string
	Values url.Values
	Reason KeptReason
	Kept   time.Time
}

// FormKeeper seals and opens kept forms.
type FormKeeper struct {
	box *keyring.SecretBox
	now func() time.Time
}

// NewFormKeeper seals with box (the secret box of RELAIS_SECRET_KEY); now
// is the clock (time.Now when nil).
func NewFormKeeper(box *keyring.SecretBox, now func() time.Time) *FormKeeper {
	if now == nil {
		now = time.Now
	}
	return &FormKeeper{box: box, now: now}
}

// neverKept reports a field whose value must never be written anywhere:
// passwords and one-time codes (the person types them again), and
// anti-forgery tokens (a kept form must never be sendable as it is).
func neverKept(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "code", "totp", "otp", "lang_switch":
		return true
	}
	return strings.Contains(n, "password") || strings.Contains(n, "passe") || strings.Contains(n, "csrf") ||
		strings.Contains(n, "token") || strings.Contains(n, "secret")
}

type keptJSON struct {
	Path   string     `json:"p"`
	Values url.Values `json:"v"`
	Reason KeptReason `json:"r"`
	Kept   int64      `json:"t"` // Unix seconds
}

// keptID binds a sealed form to its page (GCM additional data): opened
// for another path, it fails as if altered.
func keptID(path string) string { return "relais kept form v1\x00" + path }

// Seal keeps values for the page at path, without the fields that are
// never kept, and returns them sealed, in base64url.
func (k *FormKeeper) Seal(path string, values url.Values, reason KeptReason) (string, error) {
	kept := url.Values{}
	for name, v := range values {
		if !neverKept(name) {
			kept[name] = append([]string(nil), v...)
		}
	}
	buf, err := json.Marshal(keptJSON{Path: path, Values: kept, Reason: reason, Kept: k.now().Unix()})
	if err != nil {
		return "", fmt.Errorf("keep form: %w", err)
	}
	if len(buf) > MaxKeptFormBytes {
		return "", ErrKeptFormTooLarge
	}
	return base64.RawURLEncoding.EncodeToString(k.box.Seal(keptID(path), buf)), nil
}

// Open returns the form sealed for the page at path.
func (k *FormKeeper) Open(path, sealed string) (KeptForm, error) {
	// A sealed form is at most the plaintext bound plus its envelope.
	if len(sealed) > base64.RawURLEncoding.EncodedLen(MaxKeptFormBytes+64) {
		return KeptForm{}, ErrKeptFormTooLarge
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return KeptForm{}, ErrKeptFormAltered
	}
	buf, err := k.box.Open(keptID(path), raw)
	if err != nil {
		return KeptForm{}, ErrKeptFormAltered
	}
	var j keptJSON
	if err := json.Unmarshal(buf, &j); err != nil || j.Path != path {
		return KeptForm{}, ErrKeptFormAltered
	}
	kept := time.Unix(j.Kept, 0)
	if age := k.now().Sub(kept); age > KeptFormTTL || age < -time.Minute {
		return KeptForm{}, ErrKeptFormExpired
	}
	return KeptForm{Path: j.Path, Values: j.Values, Reason: j.Reason, Kept: kept}, nil
}
