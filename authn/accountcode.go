package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// CodePurpose says what an account code is for; a code of one purpose is
// refused for another.
type CodePurpose string

const (
	// PurposeActivation: a new account's first password (or a linked
	// FranceConnect login), by a code sent on paper by default.
	PurposeActivation CodePurpose = "activation"
	// PurposeReset: a new password after « mot de passe oublié ».
	PurposeReset CodePurpose = "reset"
)

// ErrCodeExpired: the code was right but is past its time; the person asks
// for a new one.
var ErrCodeExpired = errors.New("authn: the code has expired")

// AccountCode is a single-use code as stored: its SHA-256 only. The code has
// about 59 random bits, so a fast hash is enough and lets it be found by
// itself (the person types only the code on the letter).
type AccountCode struct {
	Hash      []byte
	PersonID  string
	Purpose   CodePurpose
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AccountCodeStore keeps account codes, one live code per person and
// purpose.
type AccountCodeStore interface {
	// ReplaceAccountCode saves c and deletes the person's other codes of
	// c.Purpose, in one transaction: a new letter voids the old code.
	ReplaceAccountCode(ctx context.Context, c AccountCode) error
	// AccountCodeByHash returns mandates.ErrNotFound for an unknown hash.
	AccountCodeByHash(ctx context.Context, hash []byte) (AccountCode, error)
	// DeleteAccountCode deletes the code with this hash; mandates.ErrNotFound
	// when it is already gone, so that of two uses at once only one wins.
	DeleteAccountCode(ctx context.Context, hash []byte) error
}

// CodeLimits bound the codes typed from one address, whatever the account:
// a code is found by itself, so guessing is bounded per address.
type CodeLimits struct {
	Window     time.Duration // default 15 min
	PerAddress int           // default 10
}

// AccountCodes issues and redeems account codes.
type AccountCodes struct {
	store    AccountCodeStore
	attempts AttemptStore
	limits   CodeLimits
	now      func() time.Time
}

// NewAccountCodes makes AccountCodes; a zero CodeLimits takes the defaults.
func NewAccountCodes(store AccountCodeStore, attempts AttemptStore, limits CodeLimits, now func() time.Time) *AccountCodes {
	if limits.Window <= 0 {
		limits.Window = 15 * time.Minute
	}
	if limits.PerAddress <= 0 {
		limits.PerAddress = 10
	}
	if now == nil {
		now = time.Now
	}
	return &AccountCodes{store: store, attempts: attempts, limits: limits, now: now}
}

// codeAlphabet leaves out letters and digits read one for another (0 O, 1 I
// L) by someone copying a letter.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

const codeLength = 12

// Issue makes a new code of purpose for the person, valid for ttl, and voids
// the person's earlier one. It returns the code as written for a person to
// copy: three groups of four, « ABCD-EFGH-JKMN ».
func (c *AccountCodes) Issue(ctx context.Context, personID string, purpose CodePurpose, ttl time.Duration) (string, error) {
	raw := make([]byte, codeLength)
	for i := range raw {
		raw[i] = codeAlphabet[randIndex(len(codeAlphabet))]
	}
	now := c.now().UTC()
	code := AccountCode{Hash: codeHash(string(raw)), PersonID: personID, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := c.store.ReplaceAccountCode(ctx, code); err != nil {
		return "", fmt.Errorf("issue a %s code: %w", purpose, err)
	}
	return string(raw[0:4]) + "-" + string(raw[4:8]) + "-" + string(raw[8:12]), nil
}

// Redeem uses code for purpose and returns whose it is. The code is deleted,
// so run Redeem in the transaction of what the code allows: both commit or
// neither does. It fails with ErrBadCode (unknown, already used, or of
// another purpose), ErrCodeExpired or ErrTooManyAttempts.
func (c *AccountCodes) Redeem(ctx context.Context, code string, purpose CodePurpose, address string) (string, error) {
	window := c.now().UTC().Truncate(c.limits.Window)
	key := "code-address:" + address
	ok, err := c.attempts.ReserveAttempt(ctx, window, AttemptLimit{Key: key, Max: c.limits.PerAddress})
	if err != nil {
		return "", fmt.Errorf("count a code attempt: %w", err)
	}
	if !ok {
		return "", ErrTooManyAttempts
	}
	hash := codeHash(NormaliseCode(code))
	stored, err := c.store.AccountCodeByHash(ctx, hash)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return "", ErrBadCode
	case err != nil:
		return "", err
	case stored.Purpose != purpose:
		return "", ErrBadCode
	case !c.now().Before(stored.ExpiresAt):
		return "", ErrCodeExpired
	}
	if err := c.store.DeleteAccountCode(ctx, hash); errors.Is(err, mandates.ErrNotFound) {
		return "", ErrBadCode
	} else if err != nil {
		return "", err
	}
	// A right code is no guess: the address's attempt is taken back.
	if err := c.attempts.ReleaseAttempt(ctx, key, window); err != nil {
		return "", fmt.Errorf("release a code attempt: %w", err)
	}
	return stored.PersonID, nil
}

// CodeRefused says whether Redeem refused the code itself (wrong, used,
// expired, or too many tries from the address), as opposed to failing.
// Such a refusal must still commit the attempt Redeem counted, or guesses
// would go uncounted: callers end their transaction without error and
// return the refusal after the commit.
func CodeRefused(err error) bool {
	return errors.Is(err, ErrBadCode) || errors.Is(err, ErrCodeExpired) || errors.Is(err, ErrTooManyAttempts)
}

// NormaliseCode is a typed code as it was issued: capitals, without the
// spaces and hyphens a person may add or leave out.
func NormaliseCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func codeHash(code string) []byte {
	sum := sha256.Sum256([]byte("relais account code\x00" + code))
	return sum[:]
}

// randIndex is a uniform random index below n (n ≤ 256), by rejection.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}
