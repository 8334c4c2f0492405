package authn_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
)

func TestAccountCodes(t *testing.T) {
	st, p := newLimitStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	codes := authn.NewAccountCodes(st, st, authn.CodeLimits{Window: 15 * time.Minute, PerAddress: 4}, func() time.Time { return now })

	first, err := codes.Issue(ctx, p.ID, authn.PurposeActivation, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 14 || first[4] != '-' || first[9] != '-' || strings.ContainsAny(first, "01ILO") {
		t.Fatalf("code %q: want three groups of four, without 0, 1, I, L or O", first)
	}
	second, err := codes.Issue(ctx, p.ID, authn.PurposeActivation, 30*24*time.Hour)
	if err != nil || second == first {
		t.Fatalf("second code %q, %v; want a new one", second, err)
	}
	if _, err := codes.Redeem(ctx, first, authn.PurposeActivation, "10.0.0.1"); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("the first code after a second letter: %v, want ErrBadCode", err)
	}
	if _, err := codes.Redeem(ctx, second, authn.PurposeReset, "10.0.0.1"); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("an activation code used to reset: %v, want ErrBadCode", err)
	}
	// Typed in lower case with spaces, as people copy a letter.
	typed := strings.ToLower(strings.ReplaceAll(second, "-", " "))
	if got, err := codes.Redeem(ctx, typed, authn.PurposeActivation, "10.0.0.1"); err != nil || got != p.ID {
		t.Fatalf("the live code, typed %q: %q, %v; want the person", typed, got, err)
	}
	if _, err := codes.Redeem(ctx, second, authn.PurposeActivation, "10.0.0.1"); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("a used code: %v, want ErrBadCode", err)
	}

	reset, err := codes.Issue(ctx, p.ID, authn.PurposeReset, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if _, err := codes.Redeem(ctx, reset, authn.PurposeReset, "10.0.0.2"); !errors.Is(err, authn.ErrCodeExpired) {
		t.Errorf("a code past its hour: %v, want ErrCodeExpired", err)
	}

	// Guesses from one address stop at the limit, even with a right code.
	live, err := codes.Issue(ctx, p.ID, authn.PurposeReset, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := codes.Redeem(ctx, "AAAA-AAAA-AAAA", authn.PurposeReset, "10.0.0.3"); !errors.Is(err, authn.ErrBadCode) {
			t.Fatalf("guess %d: %v, want ErrBadCode", i+1, err)
		}
	}
	if _, err := codes.Redeem(ctx, live, authn.PurposeReset, "10.0.0.3"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("a fifth try from the address: %v, want ErrTooManyAttempts", err)
	}
	if got, err := codes.Redeem(ctx, live, authn.PurposeReset, "10.0.0.4"); err != nil || got != p.ID {
		t.Errorf("the same code from another address: %q, %v; want the person", got, err)
	}
}
