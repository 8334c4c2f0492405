package authn_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
)

func newKeeper(t *testing.T, key byte, now *time.Time) *authn.FormKeeper {
	t.Helper()
	box, err := keyring.NewSecretBox(bytes.Repeat([]byte{key}, keyring.SecretKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return authn.NewFormKeeper(box, func() time.Time { return *now })
}

func TestAKeptFormOpensOnlyOnItsPageWhileFresh(t *testing.T) {
	const page = "/espace/procuration/nouvelle"
	start := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	form := url.Values{"email": {"ahmed.benali@exemple.fr"}, "domaines": {"social", "sante"}, "duree": {"1y"},
		"password": {"secret-du-jour"}, "mot_de_passe": {"x"}, "csrf_token": {"t"}, "code": {"123456"}}

	tests := []struct {
		name   string
		page   string
		later  time.Duration
		other  bool // opened by an instance with another secret key
		tamper func(string) string
		want   error
	}{
		{"a form opens on its page, filled", page, 5 * time.Minute, false, nil, nil},
		{"a form opens up to its time limit", page, authn.KeptFormTTL, false, nil, nil},
		{"a form kept too long is refused as expired", page, authn.KeptFormTTL + time.Second, false, nil, authn.ErrKeptFormExpired},
		{"a form does not open on another page", "/espace/representations/x/arreter", time.Minute, false, nil, authn.ErrKeptFormAltered},
		{"a changed byte makes it refused", page, time.Minute, false, func(s string) string {
			raw, _ := base64.RawURLEncoding.DecodeString(s)
			raw[len(raw)-1] ^= 1
			return base64.RawURLEncoding.EncodeToString(raw)
		}, authn.ErrKeptFormAltered},
		{"a cut form is refused", page, time.Minute, false, func(s string) string { return s[:len(s)/2] }, authn.ErrKeptFormAltered},
		{"text that is not base64 is refused", page, time.Minute, false, func(string) string { return "%%%" }, authn.ErrKeptFormAltered},
		{"a huge value is refused before it is decoded", page, time.Minute, false, func(string) string { return strings.Repeat("A", 1<<20) }, authn.ErrKeptFormTooLarge},
		{"another secret key does not open it", page, time.Minute, true, nil, authn.ErrKeptFormAltered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			k := newKeeper(t, 'k', &now)
			sealed, err := k.Seal(page, form, authn.KeptSessionEnded)
			if err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				sealed = tt.tamper(sealed)
			}
			now = start.Add(tt.later)
			if tt.other {
				k = newKeeper(t, 'o', &now)
			}
			got, err := k.Open(tt.page, sealed)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				return
			}
			if got.Values.Get("email") != "ahmed.benali@exemple.fr" || strings.Join(got.Values["domaines"], ",") != "social,sante" ||
				got.Reason != authn.KeptSessionEnded || got.Path != page {
				t.Errorf("kept form = %+v", got)
			}
		})
	}
}

func TestAKeptFormNeverHoldsPasswordsCodesOrTokens(t *testing.T) {
	now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	k := newKeeper(t, 'k', &now)
	secret := "secret-du-jour-7"
	form := url.Values{"email": {"a@exemple.fr"}, "password": {secret}, "new_password": {secret}, "mot_de_passe": {secret},
		"csrf_token": {secret}, "code": {secret}, "lang_switch": {"en"}}
	sealed, err := k.Seal("/p", form, authn.KeptLanguage)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Open("/p", sealed)
	if err != nil {
		t.Fatal(err)
	}
	for name := range form {
		if _, kept := got.Values[name]; kept != (name == "email") {
			t.Errorf("field %q kept: %v", name, kept)
		}
	}
}

func TestAFormTooLargeIsNotKept(t *testing.T) {
	now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	k := newKeeper(t, 'k', &now)
	_, err := k.Seal("/p", url.Values{"motif": {strings.Repeat("é", authn.MaxKeptFormBytes)}}, authn.KeptSessionEnded)
	if !errors.Is(err, authn.ErrKeptFormTooLarge) {
		t.Fatalf("Seal: %v, want ErrKeptFormTooLarge", err)
	}
	sealed, err := k.Seal("/p", url.Values{"motif": {strings.Repeat("a", authn.MaxKeptFormBytes-100)}}, authn.KeptSessionEnded)
	if err != nil {
		t.Fatal(err)
	}
	// What the largest kept form becomes fits one cookie with its name
	// (ui names it relais_kept_ and 16 hex digits).
	if n := len("relais_kept_0123456789abcdef=") + len(sealed); n > 4096 {
		t.Errorf("largest kept form is %d bytes as a cookie", n)
	}
	if _, err := k.Open("/p", sealed); err != nil {
		t.Errorf("the largest form does not open: %v", err)
	}
}
