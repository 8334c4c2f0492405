package authn

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// Second-factor failures a person can meet.
var (
	// ErrBadCode: the code matches neither the app's nor a recovery code.
	ErrBadCode = errors.New("authn: the code does not match")
	// ErrCodeUsed: the code is right but its time step was already
	// accepted (RFC 6238 §5.2: a verifier must not accept a code twice).
	ErrCodeUsed = errors.New("authn: this code was already used")
	// ErrTOTPActive: the person's second factor is already on.
	ErrTOTPActive = errors.New("authn: the second factor is already on")
)

// TOTP parameters every authenticator app understands (RFC 6238 defaults,
// as Google Authenticator reads them).
const (
	totpPeriod     = 30 // seconds per time step
	totpSkew       = 1  // steps accepted on either side of now, for phone clocks
	totpSecretSize = 20 // bytes: the SHA-1 block RFC 4226 §4 recommends
	// RecoveryCodeCount is how many recovery codes a person gets at once.
	RecoveryCodeCount = 10
)

var totpDigits = otp.DigitsSix

// TOTPEnrolment is a person's time-based second factor as stored.
type TOTPEnrolment struct {
	PersonID string
	// Secret is sealed by the SecretBox for the id PersonID (DESIGN.md §6:
	// TOTP secrets are encrypted at rest).
	Secret []byte
	// LastStep is the last time step accepted; a code of this step or an
	// earlier one is refused, so a code cannot be replayed.
	LastStep    int64
	CreatedAt   time.Time
	ConfirmedAt time.Time // zero until the person gives a first code
}

// Active says whether logins need the second factor.
func (e TOTPEnrolment) Active() bool { return !e.ConfirmedAt.IsZero() }

// TOTPStore keeps second factors and recovery codes, one enrolment per
// person. Every change that a concurrent request could race is a single
// conditional write, so two instances cannot both accept one code.
type TOTPStore interface {
	// TOTP returns mandates.ErrNotFound when the person has no enrolment.
	TOTP(ctx context.Context, personID string) (TOTPEnrolment, error)
	// StartTOTP saves a new unconfirmed enrolment, replacing an unconfirmed
	// one; it fails with ErrTOTPActive when the person's is confirmed.
	StartTOTP(ctx context.Context, e TOTPEnrolment) error
	// ConfirmTOTP turns on the unconfirmed enrolment whose sealed secret is
	// secret, records step as the last accepted one, and replaces the
	// recovery codes with these hashes, in one transaction. It fails with
	// mandates.ErrNotFound when no such unconfirmed enrolment exists (it was
	// replaced or confirmed meanwhile, or step is not after the last one).
	ConfirmTOTP(ctx context.Context, personID string, secret []byte, step int64, at time.Time, recovery [][]byte) error
	// AcceptTOTPStep records step as the last accepted one if it is later
	// than the last one, and fails with ErrCodeUsed otherwise: of two
	// concurrent calls with one step, exactly one succeeds. It fails with
	// mandates.ErrNotFound when the person has no confirmed enrolment.
	AcceptTOTPStep(ctx context.Context, personID string, step int64) error
	// UseRecoveryCode marks the unused code with this hash used; it fails
	// with mandates.ErrNotFound when there is none, so of two concurrent
	// uses of one code exactly one succeeds.
	UseRecoveryCode(ctx context.Context, personID string, hash []byte, at time.Time) error
	// RecoveryCodesLeft counts the person's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, personID string) (int, error)
	// DeleteTOTP removes the enrolment and its recovery codes; deleting none
	// is not an error.
	DeleteTOTP(ctx context.Context, personID string) error
}

// PendingLogin is a login whose password was right and whose second factor
// is still to come. It lives in the store, not in memory, since another
// instance may serve the next request; the browser holds a random token in
// a cookie and the store only its SHA-256 (like BrowserSession).
type PendingLogin struct {
	ID        string // hex SHA-256 of the cookie token
	PersonID  string
	AuthTime  time.Time // when the password was given
	AMR       []string  // what was proved so far: "pwd"
	CreatedAt time.Time
	ExpiresAt time.Time
	// ACR, Upstream and UpstreamIDToken are those of a login through an
	// upstream provider (see BrowserSession): the session made after the
	// code keeps them, so its level reaches the tokens and its logout goes
	// through the provider. Empty for a login with a password.
	ACR             string
	Upstream        string
	UpstreamIDToken string
}

// PendingLoginStore keeps logins half done.
type PendingLoginStore interface {
	CreatePendingLogin(ctx context.Context, p PendingLogin) error
	// PendingLogin returns mandates.ErrNotFound for an unknown or expired id.
	PendingLogin(ctx context.Context, id string, now time.Time) (PendingLogin, error)
	// TakePendingLogin deletes the pending login and returns it, so it ends
	// in at most one session: of two concurrent calls, one gets
	// mandates.ErrNotFound, as does an unknown or expired id.
	TakePendingLogin(ctx context.Context, id string, now time.Time) (PendingLogin, error)
}

// TOTPConfig tunes the second factor; the zero value is the default.
type TOTPConfig struct {
	// Issuer names the account in the person's app. Default "Relais".
	Issuer string
	// PendingTTL is how long a person has between the password and the
	// code. Default 15 minutes, the length of the attempt window.
	PendingTTL time.Duration
}

// TOTP is the optional second factor: time-based one-time codes from an
// app (RFC 6238), and recovery codes for when the phone is lost. Codes
// count against the same AttemptStore, window and per-account limit as
// passwords, under the key "otp:<person id>": each attempt is counted
// before the code is checked, and a success clears the count.
type TOTP struct {
	store   TOTPStore
	pending PendingLoginStore
	box     *keyring.SecretBox
	auth    *Authenticator
	cfg     TOTPConfig
}

// NewTOTP makes the second-factor service. It reads persons, counts
// failures and keeps time through auth, so the limits are the password's.
func NewTOTP(store TOTPStore, pending PendingLoginStore, box *keyring.SecretBox, auth *Authenticator, cfg TOTPConfig) *TOTP {
	if cfg.Issuer == "" {
		cfg.Issuer = "Relais"
	}
	if cfg.PendingTTL <= 0 {
		cfg.PendingTTL = 15 * time.Minute
	}
	return &TOTP{store: store, pending: pending, box: box, auth: auth, cfg: cfg}
}

// PendingTTL is how long a pending login lasts.
func (t *TOTP) PendingTTL() time.Duration { return t.cfg.PendingTTL }

// TOTPStatus is what the account page shows.
type TOTPStatus struct {
	Started      bool // an enrolment exists, confirmed or not
	Active       bool
	RecoveryLeft int
}

// Status says where the person is with the second factor.
func (t *TOTP) Status(ctx context.Context, personID string) (TOTPStatus, error) {
	e, err := t.store.TOTP(ctx, personID)
	if errors.Is(err, mandates.ErrNotFound) {
		return TOTPStatus{}, nil
	}
	if err != nil {
		return TOTPStatus{}, err
	}
	st := TOTPStatus{Started: true, Active: e.Active()}
	if st.Active {
		if st.RecoveryLeft, err = t.store.RecoveryCodesLeft(ctx, personID); err != nil {
			return st, err
		}
	}
	return st, nil
}

// Active says whether the person's logins need the second factor.
func (t *TOTP) Active(ctx context.Context, personID string) (bool, error) {
	e, err := t.store.TOTP(ctx, personID)
	if errors.Is(err, mandates.ErrNotFound) {
		return false, nil
	}
	return err == nil && e.Active(), err
}

// Begin makes a new secret for the person, replacing one they never
// confirmed. Logins need no code until Confirm.
func (t *TOTP) Begin(ctx context.Context, personID string) error {
	secret := make([]byte, totpSecretSize)
	_, _ = rand.Read(secret)
	now := t.auth.now().UTC()
	err := t.store.StartTOTP(ctx, TOTPEnrolment{PersonID: personID, Secret: t.box.Seal(personID, secret), CreatedAt: now})
	if err != nil {
		return fmt.Errorf("begin second factor: %w", err)
	}
	return nil
}

// TOTPSetup is what the person needs to add the account to their app.
type TOTPSetup struct {
	Secret string // base32, as apps take it when typed
	URL    string // otpauth:// URL, the content of the QR code
	key    *otp.Key
}

// SecretGroups is the secret in groups of 4 characters, easier to copy and
// to hear one group at a time.
func (s TOTPSetup) SecretGroups() []string {
	var groups []string
	for i := 0; i < len(s.Secret); i += 4 {
		groups = append(groups, s.Secret[i:min(i+4, len(s.Secret))])
	}
	return groups
}

// QRCode is the otpauth URL as a PNG QR code of about size pixels,
// with the white margin scanners need (ISO/IEC 18004 quiet zone).
func (s TOTPSetup) QRCode(size int) ([]byte, error) {
	margin := size / 10
	code, err := s.key.Image(size-2*margin, size-2*margin)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(img, code.Bounds().Add(image.Pt(margin, margin)), code, code.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// Setup returns the secret Begin made, while it is not confirmed: once
// the second factor is on (ErrTOTPActive), the secret is never shown again.
// It fails with mandates.ErrNotFound before Begin.
func (t *TOTP) Setup(ctx context.Context, personID string) (TOTPSetup, error) {
	e, err := t.store.TOTP(ctx, personID)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("second factor setup: %w", err)
	}
	if e.Active() {
		return TOTPSetup{}, ErrTOTPActive
	}
	secret, err := t.box.Open(personID, e.Secret)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("open the second factor's secret: %w", err)
	}
	p, err := t.auth.persons.Person(ctx, personID)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("second factor setup: %w", err)
	}
	// The app shows this name beside the codes: the email when there is one,
	// which is what the person types to log in.
	account := p.Email
	if account == "" {
		account = mandates.DisplayName(p)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: t.cfg.Issuer, AccountName: account, Period: totpPeriod,
		Secret: secret, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("second factor setup: %w", err)
	}
	return TOTPSetup{Secret: key.Secret(), URL: key.URL(), key: key}, nil
}

// Confirm turns the second factor on when code is right for the secret
// Begin made, and returns the recovery codes: the only time they exist in
// clear, since the store keeps their hashes.
func (t *TOTP) Confirm(ctx context.Context, personID, code string) ([]string, error) {
	at, err := t.limit(ctx, personID)
	if err != nil {
		return nil, err
	}
	e, err := t.store.TOTP(ctx, personID)
	if err != nil {
		return nil, fmt.Errorf("confirm second factor: %w", err)
	}
	if e.Active() {
		// Nothing was checked: the attempt is taken back.
		if err := t.release(ctx, at); err != nil {
			return nil, err
		}
		return nil, ErrTOTPActive
	}
	step, err := t.match(e, code)
	switch {
	case errors.Is(err, ErrBadCode), errors.Is(err, ErrCodeUsed):
		return nil, t.fail(ctx, at, err)
	case err != nil:
		return nil, fmt.Errorf("confirm second factor: %w", err)
	}
	codes, hashes := newRecoveryCodes(personID)
	err = t.auth.ev.inTx(ctx, func(ctx context.Context) error {
		if err := t.store.ConfirmTOTP(ctx, personID, e.Secret, step, t.auth.now().UTC(), hashes); err != nil {
			return err
		}
		return t.clear(ctx, at, mandates.EventSecondFactorEnrolled)
	})
	if errors.Is(err, mandates.ErrNotFound) {
		// Another request confirmed or replaced the secret meanwhile: this
		// code belongs to a secret that is no longer the one set up.
		return nil, t.fail(ctx, at, ErrBadCode)
	}
	if err != nil {
		return nil, fmt.Errorf("confirm second factor: %w", err)
	}
	return codes, nil
}

// Verify checks a code from the person's app. It fails with ErrBadCode,
// ErrCodeUsed (the same code again), ErrTooManyAttempts or a store error.
func (t *TOTP) Verify(ctx context.Context, personID, code string) error {
	at, err := t.limit(ctx, personID)
	if err != nil {
		return err
	}
	e, err := t.store.TOTP(ctx, personID)
	if errors.Is(err, mandates.ErrNotFound) || err == nil && !e.Active() {
		return t.fail(ctx, at, ErrBadCode)
	}
	if err != nil {
		return fmt.Errorf("verify code: %w", err)
	}
	step, err := t.match(e, code)
	if err == nil {
		err = t.auth.ev.inTx(ctx, func(ctx context.Context) error {
			if err := t.store.AcceptTOTPStep(ctx, personID, step); err != nil {
				return err
			}
			return t.clear(ctx, at, mandates.EventSecondFactorUsed)
		})
	}
	switch {
	case errors.Is(err, ErrBadCode), errors.Is(err, ErrCodeUsed):
		return t.fail(ctx, at, err)
	case errors.Is(err, mandates.ErrNotFound): // turned off meanwhile
		return t.fail(ctx, at, ErrBadCode)
	case err != nil:
		return fmt.Errorf("verify code: %w", err)
	}
	return nil
}

// UseRecoveryCode accepts one of the person's recovery codes, once.
func (t *TOTP) UseRecoveryCode(ctx context.Context, personID, code string) error {
	at, err := t.limit(ctx, personID)
	if err != nil {
		return err
	}
	norm := normaliseRecoveryCode(code)
	if len(norm) != recoveryCodeLen {
		return t.fail(ctx, at, ErrBadCode)
	}
	err = t.auth.ev.inTx(ctx, func(ctx context.Context) error {
		if err := t.store.UseRecoveryCode(ctx, personID, recoveryHash(personID, norm), t.auth.now().UTC()); err != nil {
			return err
		}
		return t.clear(ctx, at, mandates.EventRecoveryCodeUsed)
	})
	if errors.Is(err, mandates.ErrNotFound) {
		return t.fail(ctx, at, ErrBadCode)
	}
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	return nil
}

// VerifyAny accepts a code from the app or a recovery code, for a page
// with a single field (turning the second factor off).
func (t *TOTP) VerifyAny(ctx context.Context, personID, code string) error {
	if d := digitsOnly(code); len(d) == totpDigits.Length() {
		return t.Verify(ctx, personID, d)
	}
	return t.UseRecoveryCode(ctx, personID, code)
}

// Disable turns the second factor off and forgets its secret and codes.
// The caller checks a code first (VerifyAny).
func (t *TOTP) Disable(ctx context.Context, personID string) error {
	return t.auth.ev.inTx(ctx, func(ctx context.Context) error {
		if err := t.store.DeleteTOTP(ctx, personID); err != nil {
			return fmt.Errorf("turn second factor off: %w", err)
		}
		return t.auth.ev.emit(ctx, personEvent(mandates.EventSecondFactorDisabled, personID, t.auth.now().UTC(), nil))
	})
}

// StartLogin records that the person gave the right password and must now
// give a code; the returned token goes in a cookie.
func (t *TOTP) StartLogin(ctx context.Context, personID string, amr []string) (token string, err error) {
	return t.StartLoginOf(ctx, PendingLogin{PersonID: personID, AMR: amr})
}

// StartLoginOf is StartLogin for a login that says more than the person
// and the amr: one through an upstream provider (its ACR, Upstream and
// UpstreamIDToken). Its ID and times are set here.
func (t *TOTP) StartLoginOf(ctx context.Context, p PendingLogin) (token string, err error) {
	now := t.auth.now().UTC()
	token, p.ID = NewSessionToken()
	p.AuthTime, p.CreatedAt, p.ExpiresAt = now, now, now.Add(t.cfg.PendingTTL)
	err = t.pending.CreatePendingLogin(ctx, p)
	if err != nil {
		return "", fmt.Errorf("start pending login: %w", err)
	}
	return token, nil
}

// PendingLogin returns the login the token names, or mandates.ErrNotFound
// when it is unknown or expired.
func (t *TOTP) PendingLogin(ctx context.Context, token string) (PendingLogin, error) {
	if token == "" {
		return PendingLogin{}, mandates.ErrNotFound
	}
	return t.pending.PendingLogin(ctx, SessionID(token), t.auth.now().UTC())
}

// FinishLogin ends the pending login once its second factor is given; of
// two requests finishing one login, one gets mandates.ErrNotFound.
func (t *TOTP) FinishLogin(ctx context.Context, token string) (PendingLogin, error) {
	if token == "" {
		return PendingLogin{}, mandates.ErrNotFound
	}
	return t.pending.TakePendingLogin(ctx, SessionID(token), t.auth.now().UTC())
}

// codeAddress is the context key of the address a code comes from.
type codeAddress struct{}

// WithAddress says which network address the code checks of ctx come
// from, so that they count against that address's limit as well as the
// account's (the same per-address limit as passwords): one address
// guessing codes for many accounts is stopped too.
func WithAddress(ctx context.Context, address string) context.Context {
	return context.WithValue(ctx, codeAddress{}, address)
}

// codeAttempt is an attempt at a code, counted before the check.
type codeAttempt struct {
	key     string // "otp:<person>"
	address string // "address:<ip>", or "" when the caller named none
	window  time.Time
}

// limit counts an attempt at a code before it is checked, against the
// password's per-account limit in the current window, and the per-address
// one when ctx names the address (WithAddress), and refuses once the
// window's attempts reach either. Counting first, in one atomic step, is
// what keeps concurrent guesses under the limit: read first and counted
// after, they would all find room.
func (t *TOTP) limit(ctx context.Context, personID string) (codeAttempt, error) {
	at := codeAttempt{key: "otp:" + personID, window: t.auth.now().UTC().Truncate(t.auth.limits.Window)}
	limits := []AttemptLimit{{Key: at.key, Max: t.auth.limits.PerAccount}}
	if addr, _ := ctx.Value(codeAddress{}).(string); addr != "" {
		at.address = "address:" + addr
		limits = append(limits, AttemptLimit{Key: at.address, Max: t.auth.limits.PerAddress})
	}
	ok, err := t.auth.attempts.ReserveAttempt(ctx, at.window, limits...)
	if err != nil {
		return at, fmt.Errorf("count a code attempt: %w", err)
	}
	if !ok {
		return at, ErrTooManyAttempts
	}
	return at, nil
}

// release takes back an attempt whose code was not checked.
func (t *TOTP) release(ctx context.Context, at codeAttempt) error {
	for _, k := range []string{at.key, at.address} {
		if k == "" {
			continue
		}
		if err := t.auth.attempts.ReleaseAttempt(ctx, k, at.window); err != nil {
			return fmt.Errorf("release a code attempt: %w", err)
		}
	}
	return nil
}

// fail journals a failed code, already counted by limit, in the person's
// chain, and returns why it failed.
func (t *TOTP) fail(ctx context.Context, at codeAttempt, cause error) error {
	personID := strings.TrimPrefix(at.key, "otp:")
	reason := "bad_code"
	if errors.Is(cause, ErrCodeUsed) {
		reason = "code_used"
	}
	err := t.auth.ev.emit(ctx, personEvent(mandates.EventSecondFactorFailed, personID, t.auth.now().UTC(),
		map[string]string{"reason": reason}))
	if err != nil {
		return err
	}
	return cause
}

// clear forgets the account's failures after a success and takes back the
// address's attempt (a success is no guess, as for passwords), and
// journals the success (t of the act) in the same transaction.
func (t *TOTP) clear(ctx context.Context, at codeAttempt, typ mandates.EventType) error {
	personID := strings.TrimPrefix(at.key, "otp:")
	return t.auth.ev.inTx(ctx, func(ctx context.Context) error {
		if err := t.auth.attempts.ClearFailures(ctx, at.key); err != nil {
			return fmt.Errorf("clear code attempts: %w", err)
		}
		if at.address != "" {
			if err := t.auth.attempts.ReleaseAttempt(ctx, at.address, at.window); err != nil {
				return fmt.Errorf("release a code attempt: %w", err)
			}
		}
		return t.auth.ev.emit(ctx, personEvent(typ, personID, t.auth.now().UTC(), nil))
	})
}

// match finds the time step, within the skew around now, whose code is
// code and which is later than the last one accepted. It fails with
// ErrCodeUsed when code is only that of an accepted step.
func (t *TOTP) match(e TOTPEnrolment, code string) (int64, error) {
	code = digitsOnly(code)
	if len(code) != totpDigits.Length() {
		return 0, ErrBadCode
	}
	secret, err := t.box.Open(e.PersonID, e.Secret)
	if err != nil {
		return 0, fmt.Errorf("open the second factor's secret: %w", err)
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	now := t.auth.now().Unix() / totpPeriod
	used := false
	for step := now - totpSkew; step <= now+totpSkew; step++ {
		want, err := hotp.GenerateCodeCustom(b32, uint64(step), hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, fmt.Errorf("compute code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if step > e.LastStep {
			return step, nil
		}
		used = true
	}
	if used {
		return 0, ErrCodeUsed
	}
	return 0, ErrBadCode
}

// digitsOnly drops the spaces, dots and dashes people type between digits;
// anything else makes the code wrong.
func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '\u00a0' || r == '\t':
		default:
			return ""
		}
	}
	return b.String()
}

// Recovery codes are 12 characters in 3 groups of 4, from 31 lower-case
// letters and digits with none that look alike (no 0, 1, i, l, o):
// about 59 bits each, too many to guess within the attempt limits, and
// enough that a SHA-256 suffices to store them (as for client secrets).
const (
	recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	recoveryCodeLen  = 12
)

func newRecoveryCodes(personID string) (codes []string, hashes [][]byte) {
	for range RecoveryCodeCount {
		raw := make([]byte, 0, recoveryCodeLen)
		var b [1]byte
		for len(raw) < recoveryCodeLen {
			_, _ = rand.Read(b[:])
			// Reject the top of the byte range so every symbol is equally likely.
			if int(b[0]) >= 256/len(recoveryAlphabet)*len(recoveryAlphabet) {
				continue
			}
			raw = append(raw, recoveryAlphabet[int(b[0])%len(recoveryAlphabet)])
		}
		s := string(raw)
		codes = append(codes, s[:4]+"-"+s[4:8]+"-"+s[8:])
		hashes = append(hashes, recoveryHash(personID, s))
	}
	return codes, hashes
}

// normaliseRecoveryCode keeps the letters and digits, in lower case, so
// "K7MQ 4TNX P2RA" is "k7mq-4tnx-p2ra".
func normaliseRecoveryCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// recoveryHash binds the code to its person, so equal hashes in two
// accounts say nothing.
func recoveryHash(personID, normalised string) []byte {
	sum := sha256.Sum256([]byte("relais recovery code v1\x00" + personID + "\x00" + normalised))
	return sum[:]
}
