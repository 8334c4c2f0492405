package authn_test

import (
	"bytes"
	"errors"
	"image/png"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

type totpFixture struct {
	st     *sqlite.Store
	now    time.Time
	totp   *authn.TOTP
	auth   *authn.Authenticator
	limits authn.LoginLimits
	person mandates.Person
	secret string // base32, once Begin ran
}

func newTOTPFixture(t *testing.T) *totpFixture { return newTOTPFixtureWith(t, nil) }

// newTOTPFixtureWith journals the logins and second-factor acts in events,
// made on the fixture's store.
func newTOTPFixtureWith(t *testing.T, events func(*sqlite.Store) mandates.EventSink) *totpFixture {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	f := &totpFixture{st: st, now: time.Date(2026, 11, 23, 10, 0, 10, 0, time.UTC)}
	f.person = mandates.Person{ID: mandates.NewID(f.now), GivenNames: "Paul", FamilyName: "Durand", BirthDate: mandates.Date(1982, 1, 23),
		Email: "paul.durand@example.fr", PasswordHash: authn.HashPassword("bon-mot-de-passe")}
	if err := st.CreatePerson(ctx, f.person); err != nil {
		t.Fatal(err)
	}
	box, _ := keyring.NewSecretBox(bytes.Repeat([]byte{7}, 32))
	var sink mandates.EventSink = mandatestest.Discard{}
	if events != nil {
		sink = events(st)
	}
	f.limits = authn.LoginLimits{Window: 15 * time.Minute, PerAccount: 5}
	f.auth = authn.NewAuthenticator(st, st, f.limits, func() time.Time { return f.now }, sink, st)
	auth := f.auth
	f.totp = authn.NewTOTP(st, st, box, auth, authn.TOTPConfig{PendingTTL: 10 * time.Minute})
	return f
}

// begin starts enrolment and reads the secret as the person's app would.
func (f *totpFixture) begin(t *testing.T) authn.TOTPSetup {
	t.Helper()
	if err := f.totp.Begin(t.Context(), f.person.ID); err != nil {
		t.Fatal(err)
	}
	setup, err := f.totp.Setup(t.Context(), f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.secret = setup.Secret
	return setup
}

// code is what the app shows at now+offset.
func (f *totpFixture) code(t *testing.T, offset time.Duration) string {
	t.Helper()
	c, err := totp.GenerateCode(f.secret, f.now.Add(offset))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol turns the second factor on and returns the recovery codes.
func (f *totpFixture) enrol(t *testing.T) []string {
	t.Helper()
	f.begin(t)
	codes, err := f.totp.Confirm(t.Context(), f.person.ID, f.code(t, 0))
	if err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	f.now = f.now.Add(30 * time.Second) // the next code
	return codes
}

func TestTOTPEnrolment(t *testing.T) {
	ctx := t.Context()
	f := newTOTPFixture(t)
	if active, err := f.totp.Active(ctx, f.person.ID); err != nil || active {
		t.Errorf("before enrolment: active = %v, %v", active, err)
	}
	if _, err := f.totp.Setup(ctx, f.person.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Setup before Begin: %v, want ErrNotFound", err)
	}
	setup := f.begin(t)

	u, err := url.Parse(setup.URL)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("issuer") != "Relais" ||
		u.Query().Get("secret") != setup.Secret || !strings.Contains(u.Path, "paul.durand@example.fr") {
		t.Errorf("otpauth URL %q", setup.URL)
	}
	if len(setup.Secret) != 32 || strings.Join(setup.SecretGroups(), "") != setup.Secret || len(setup.SecretGroups()) != 8 {
		t.Errorf("secret %q in groups %q", setup.Secret, setup.SecretGroups())
	}
	img, err := setup.QRCode(240)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width != 240 {
		t.Errorf("QR code: %+v, %v", cfg, err)
	}
	// The store holds the secret sealed, never in clear.
	e, _ := f.st.TOTP(ctx, f.person.ID)
	if bytes.Contains(e.Secret, []byte(setup.Secret)) || len(e.Secret) < 20 {
		t.Errorf("stored secret is not sealed: %x", e.Secret)
	}
	// Logins need no code until the first code confirms.
	if active, _ := f.totp.Active(ctx, f.person.ID); active {
		t.Error("active before confirmation")
	}
	if _, err := f.totp.Confirm(ctx, f.person.ID, f.code(t, 5*time.Minute)); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("Confirm with a wrong code: %v, want ErrBadCode", err)
	}
	codes, err := f.totp.Confirm(ctx, f.person.ID, f.code(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !format.MatchString(c) || seen[c] {
			t.Errorf("recovery code %q: malformed or repeated", c)
		}
		seen[c] = true
	}
	if len(codes) != authn.RecoveryCodeCount {
		t.Errorf("%d recovery codes, want %d", len(codes), authn.RecoveryCodeCount)
	}
	st, err := f.totp.Status(ctx, f.person.ID)
	if err != nil || !st.Active || st.RecoveryLeft != authn.RecoveryCodeCount {
		t.Errorf("status after confirmation: %+v, %v", st, err)
	}
	// Once on, the secret is never shown again and cannot be replaced.
	if _, err := f.totp.Setup(ctx, f.person.ID); !errors.Is(err, authn.ErrTOTPActive) {
		t.Errorf("Setup once active: %v, want ErrTOTPActive", err)
	}
	if err := f.totp.Begin(ctx, f.person.ID); !errors.Is(err, authn.ErrTOTPActive) {
		t.Errorf("Begin once active: %v, want ErrTOTPActive", err)
	}
	// The confirmation's code cannot be replayed to log in.
	if err := f.totp.Verify(ctx, f.person.ID, f.code(t, 0)); !errors.Is(err, authn.ErrCodeUsed) {
		t.Errorf("the confirmation's code at login: %v, want ErrCodeUsed", err)
	}
}

func TestTOTPVerify(t *testing.T) {
	f := newTOTPFixture(t)
	f.enrol(t)
	tests := []struct {
		name   string
		offset time.Duration // of the code from now
		format func(string) string
		want   error
	}{
		{"the current code is accepted", 0, nil, nil},
		{"the same code again is refused as used", 0, nil, authn.ErrCodeUsed},
		{"the previous step's code is refused once a later one was used", -30 * time.Second, nil, authn.ErrCodeUsed},
		{"the next step's code is accepted, for a phone clock ahead", 30 * time.Second, nil, nil},
		{"a code two steps ahead is refused", 60 * time.Second, nil, authn.ErrBadCode},
		{"a code with letters is refused", 0, func(string) string { return "12a456" }, authn.ErrBadCode},
		{"a code too short is refused", 0, func(c string) string { return c[:5] }, authn.ErrBadCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := f.code(t, tt.offset)
			if tt.format != nil {
				code = tt.format(code)
			}
			if err := f.totp.Verify(t.Context(), f.person.ID, code); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("a code typed with spaces is accepted", func(t *testing.T) {
		f.now = f.now.Add(2 * time.Minute)
		c := f.code(t, 0)
		if err := f.totp.Verify(t.Context(), f.person.ID, " "+c[:3]+" "+c[3:]+" "); err != nil {
			t.Errorf("Verify(%q) = %v", c, err)
		}
	})
}

func TestTOTPFailuresShareThePasswordLimit(t *testing.T) {
	ctx := t.Context()
	f := newTOTPFixture(t)
	f.enrol(t)
	for range 5 {
		if err := f.totp.Verify(ctx, f.person.ID, "000000"); !errors.Is(err, authn.ErrBadCode) && !errors.Is(err, authn.ErrCodeUsed) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	window := f.now.Truncate(15 * time.Minute)
	if n, _ := f.st.Failures(ctx, "otp:"+f.person.ID, window); n != 5 {
		t.Errorf("failures counted under otp:<id>: %d, want 5", n)
	}
	// At the limit, even the right code and a recovery code wait.
	if err := f.totp.Verify(ctx, f.person.ID, f.code(t, 0)); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("right code at the limit: %v, want ErrTooManyAttempts", err)
	}
	if err := f.totp.UseRecoveryCode(ctx, f.person.ID, "aaaa-aaaa-aaaa"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("recovery code at the limit: %v, want ErrTooManyAttempts", err)
	}
	f.now = f.now.Add(15 * time.Minute)
	if err := f.totp.Verify(ctx, f.person.ID, f.code(t, 0)); err != nil {
		t.Errorf("right code after the window: %v", err)
	}
}

func TestRecoveryCodes(t *testing.T) {
	ctx := t.Context()
	f := newTOTPFixture(t)
	codes := f.enrol(t)
	if err := f.totp.UseRecoveryCode(ctx, f.person.ID, codes[3]); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := f.totp.UseRecoveryCode(ctx, f.person.ID, codes[3]); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("second use: %v, want ErrBadCode", err)
	}
	// Written on paper and typed back in capitals, with spaces.
	typed := strings.ToUpper(strings.ReplaceAll(codes[4], "-", " "))
	if err := f.totp.UseRecoveryCode(ctx, f.person.ID, typed); err != nil {
		t.Errorf("code typed as %q: %v", typed, err)
	}
	if err := f.totp.UseRecoveryCode(ctx, f.person.ID, "abcd-efgh-jkmn"); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("invented code: %v, want ErrBadCode", err)
	}
	if st, _ := f.totp.Status(ctx, f.person.ID); st.RecoveryLeft != authn.RecoveryCodeCount-2 {
		t.Errorf("%d codes left, want %d", st.RecoveryLeft, authn.RecoveryCodeCount-2)
	}
	// VerifyAny takes either kind, then the factor can be turned off.
	if err := f.totp.VerifyAny(ctx, f.person.ID, codes[5]); err != nil {
		t.Errorf("VerifyAny(recovery code): %v", err)
	}
	if err := f.totp.VerifyAny(ctx, f.person.ID, f.code(t, 0)); err != nil {
		t.Errorf("VerifyAny(app code): %v", err)
	}
	if err := f.totp.Disable(ctx, f.person.ID); err != nil {
		t.Fatal(err)
	}
	if active, _ := f.totp.Active(ctx, f.person.ID); active {
		t.Error("still active after Disable")
	}
	if err := f.totp.UseRecoveryCode(ctx, f.person.ID, codes[6]); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("recovery code after Disable: %v, want ErrBadCode", err)
	}
}

func TestTOTPSecretNeedsTheSecretKey(t *testing.T) {
	f := newTOTPFixture(t)
	f.begin(t)
	otherBox, _ := keyring.NewSecretBox(bytes.Repeat([]byte{8}, 32))
	auth := authn.NewAuthenticator(f.st, f.st, authn.LoginLimits{}, func() time.Time { return f.now }, mandatestest.Discard{}, f.st)
	other := authn.NewTOTP(f.st, f.st, otherBox, auth, authn.TOTPConfig{})
	if _, err := other.Setup(t.Context(), f.person.ID); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("Setup under another secret key: %v, want ErrWrongSecretKey", err)
	}
}

func TestPendingLogin(t *testing.T) {
	ctx := t.Context()
	f := newTOTPFixture(t)
	token, err := f.totp.StartLogin(ctx, f.person.ID, []string{"pwd"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.totp.PendingLogin(ctx, token)
	if err != nil || p.PersonID != f.person.ID || !p.AuthTime.Equal(f.now) || len(p.AMR) != 1 || p.AMR[0] != "pwd" {
		t.Errorf("PendingLogin = %+v, %v", p, err)
	}
	if _, err := f.totp.PendingLogin(ctx, "forged"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("forged token: %v, want ErrNotFound", err)
	}
	if _, err := f.totp.FinishLogin(ctx, token); err != nil {
		t.Errorf("FinishLogin: %v", err)
	}
	if _, err := f.totp.FinishLogin(ctx, token); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("second FinishLogin: %v, want ErrNotFound", err)
	}
	late, _ := f.totp.StartLogin(ctx, f.person.ID, []string{"pwd"})
	f.now = f.now.Add(10 * time.Minute)
	if _, err := f.totp.PendingLogin(ctx, late); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("after its time: %v, want ErrNotFound", err)
	}
}
