package authn_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

// outcomes runs try n times at once and counts the errors it returns.
func outcomes(n int, try func(i int) error) map[error]int {
	var mu sync.Mutex
	got := map[error]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := try(i)
			for _, known := range []error{authn.ErrBadCredentials, authn.ErrTooManyAttempts, authn.ErrBadCode, authn.ErrCodeUsed} {
				if errors.Is(err, known) {
					err = known
				}
			}
			mu.Lock()
			got[err]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return got
}

func newLimitStore(t *testing.T) (*sqlite.Store, mandates.Person) {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Paul", FamilyName: "Durand", BirthDate: mandates.Date(1982, 1, 23),
		Email: "paul.durand@example.fr", PasswordHash: authn.HashPassword("bon-mot-de-passe")}
	if err := st.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	return st, p
}

// A pool that queues every concurrent check: the limits, not the pool,
// decide here.
func queueAll() authn.AuthenticatorOption {
	return authn.WithHashPool(authn.NewHashPool(authn.HashPoolConfig{Size: 2, Queue: 64, Wait: time.Hour}))
}

func TestLimitsHoldUnderConcurrency(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 10, 0, time.UTC)
	clock := func() time.Time { return now }

	t.Run("25 concurrent wrong passwords for one account against 5: 5 are checked, 20 refused", func(t *testing.T) {
		st, p := newLimitStore(t)
		a := authn.NewAuthenticator(st, st, authn.LoginLimits{PerAccount: 5, PerAddress: 1000}, clock, mandatestest.Discard{}, st, queueAll())
		got := outcomes(25, func(i int) error {
			_, err := a.Authenticate(t.Context(), p.Email, "mauvais-"+strconv.Itoa(i), "10.0.0."+strconv.Itoa(i))
			return err
		})
		if got[authn.ErrBadCredentials] != 5 || got[authn.ErrTooManyAttempts] != 20 {
			t.Errorf("outcomes %v, want 5 checked (ErrBadCredentials) and 20 ErrTooManyAttempts", got)
		}
		if _, err := a.Authenticate(t.Context(), p.Email, "bon-mot-de-passe", "10.0.1.1"); !errors.Is(err, authn.ErrTooManyAttempts) {
			t.Errorf("the right password after them: %v, want ErrTooManyAttempts", err)
		}
	})
	t.Run("the right password among 25 concurrent guesses: at most 5 are checked before a login", func(t *testing.T) {
		st, p := newLimitStore(t)
		a := authn.NewAuthenticator(st, st, authn.LoginLimits{PerAccount: 5, PerAddress: 1000}, clock, mandatestest.Discard{}, st,
			// One check at a time: the success, if it is checked, comes
			// after the guesses reserved before it and before the others.
			authn.WithHashPool(authn.NewHashPool(authn.HashPoolConfig{Size: 1, Queue: 64, Wait: time.Hour})))
		got := outcomes(25, func(i int) error {
			pw := "mauvais-" + strconv.Itoa(i)
			if i == 12 {
				pw = "bon-mot-de-passe"
			}
			_, err := a.Authenticate(t.Context(), p.Email, pw, "10.0.0."+strconv.Itoa(i))
			return err
		})
		checked := got[authn.ErrBadCredentials] + got[nil]
		if got[nil] > 1 || got[nil] == 0 && checked != 5 || len(got) > 3 {
			t.Errorf("outcomes %v: want 5 checked, the right one among them or refused", got)
		}
		// A success clears the account's count (as before): the guesses
		// reserved after it may be checked, never more than 5 more.
		if checked > 10 {
			t.Errorf("%d passwords checked, want at most 5 before and 5 after the login", checked)
		}
	})
	t.Run("40 concurrent logins from one address against 30: 30 are checked, 10 refused", func(t *testing.T) {
		st, _ := newLimitStore(t)
		a := authn.NewAuthenticator(st, st, authn.LoginLimits{PerAccount: 5, PerAddress: 30}, clock, mandatestest.Discard{}, st, queueAll())
		got := outcomes(40, func(i int) error {
			_, err := a.Authenticate(t.Context(), "personne-"+strconv.Itoa(i)+"@example.fr", "mauvais", "192.0.2.1")
			return err
		})
		if got[authn.ErrBadCredentials] != 30 || got[authn.ErrTooManyAttempts] != 10 {
			t.Errorf("outcomes %v, want 30 checked (ErrBadCredentials) and 10 ErrTooManyAttempts", got)
		}
	})
	t.Run("40 concurrent wrong codes against 5: 5 are checked, 35 refused", func(t *testing.T) {
		f := newTOTPFixture(t)
		f.enrol(t)
		tt, gate := gatedTOTP(f, 40)
		got := gate.run(40, func(int) error { return tt.Verify(t.Context(), f.person.ID, "000000") })
		checked := got[authn.ErrBadCode] + got[authn.ErrCodeUsed]
		if checked != 5 || got[authn.ErrTooManyAttempts] != 35 {
			t.Errorf("outcomes %v, want 5 checked and 35 ErrTooManyAttempts", got)
		}
	})
	t.Run("40 concurrent wrong recovery codes against 5: 5 are checked, 35 refused", func(t *testing.T) {
		f := newTOTPFixture(t)
		f.enrol(t)
		tt, gate := gatedTOTP(f, 40)
		got := gate.run(40, func(int) error { return tt.UseRecoveryCode(t.Context(), f.person.ID, "aaaa-bbbb-cccc") })
		if got[authn.ErrBadCode] != 5 || got[authn.ErrTooManyAttempts] != 35 {
			t.Errorf("outcomes %v, want 5 checked and 35 ErrTooManyAttempts", got)
		}
	})
}

// gate holds every code check at the store until each of n concurrent
// attempts has either reached it or been refused: the widest race there
// can be between counting an attempt and checking it, without sleeps.
type gate struct {
	events chan struct{} // an attempt reached the store, or was refused
	open   chan struct{}
}

type gatedTOTPStore struct {
	authn.TOTPStore
	g *gate
}

func (s gatedTOTPStore) wait() {
	s.g.events <- struct{}{}
	<-s.g.open
}

func (s gatedTOTPStore) TOTP(ctx context.Context, personID string) (authn.TOTPEnrolment, error) {
	s.wait()
	return s.TOTPStore.TOTP(ctx, personID)
}

func (s gatedTOTPStore) UseRecoveryCode(ctx context.Context, personID string, hash []byte, at time.Time) error {
	s.wait()
	return s.TOTPStore.UseRecoveryCode(ctx, personID, hash, at)
}

// gatedTOTP is the fixture's second factor with its store behind a gate.
// The gate holds a check inside its act's transaction, and SQLite has one
// writer: its acts run without one (noTx), their entries discarded, so
// that the held checks do not keep the other attempts from being counted.
func gatedTOTP(f *totpFixture, n int) (*authn.TOTP, *gate) {
	g := &gate{events: make(chan struct{}), open: make(chan struct{})}
	box, _ := keyring.NewSecretBox(bytes.Repeat([]byte{7}, 32))
	auth := authn.NewAuthenticator(f.st, f.st, f.limits, func() time.Time { return f.now }, mandatestest.Discard{}, noTx{})
	return authn.NewTOTP(gatedTOTPStore{f.st, g}, f.st, box, auth, authn.TOTPConfig{PendingTTL: 10 * time.Minute}), g
}

// run is outcomes, opening the gate once all n attempts reached it or
// were refused.
func (g *gate) run(n int, try func(i int) error) map[error]int {
	go func() {
		for range n {
			<-g.events
		}
		close(g.open)
	}()
	return outcomes(n, func(i int) error {
		err := try(i)
		if errors.Is(err, authn.ErrTooManyAttempts) {
			g.events <- struct{}{}
		}
		return err
	})
}

func TestABusyPoolRefusesWithoutCountingAGuess(t *testing.T) {
	st, p := newLimitStore(t)
	now := time.Date(2026, 11, 23, 10, 0, 10, 0, time.UTC)
	synctest.Test(t, func(t *testing.T) {
		pool := authn.NewHashPool(authn.HashPoolConfig{Size: 1, Queue: 1, Wait: 3 * time.Second})
		a := authn.NewAuthenticator(st, st, authn.LoginLimits{PerAccount: 5}, func() time.Time { return now }, mandatestest.Discard{}, st, authn.WithHashPool(pool))
		release := make(chan struct{})
		go pool.Do(t.Context(), func() { <-release })
		synctest.Wait()
		_, err := a.Authenticate(t.Context(), p.Email, "bon-mot-de-passe", "10.0.0.1")
		var busy *authn.BusyError
		if !errors.As(err, &busy) || busy.RetryAfter != 3*time.Second {
			t.Fatalf("login with the pool busy: %v, want a BusyError asking for 3s", err)
		}
		window := now.Truncate(15 * time.Minute)
		for _, key := range []string{"account:" + mandates.EmailKey(p.Email), "address:10.0.0.1"} {
			if n, err := st.Failures(t.Context(), key, window); err != nil || n != 0 {
				t.Errorf("%s counted %d (%v) for a password never checked", key, n, err)
			}
		}
		close(release)
		synctest.Wait()
		if _, err := a.Authenticate(t.Context(), p.Email, "bon-mot-de-passe", "10.0.0.1"); err != nil {
			t.Errorf("login once the pool is free: %v", err)
		}
	})
}

func TestASuccessTakesBackItsAttempt(t *testing.T) {
	st, p := newLimitStore(t)
	now := time.Date(2026, 11, 23, 10, 0, 10, 0, time.UTC)
	a := authn.NewAuthenticator(st, st, authn.LoginLimits{PerAccount: 5, PerAddress: 3}, func() time.Time { return now }, mandatestest.Discard{}, st)
	// Successes from a shared address (a France Services desk) never use up
	// its limit: only failures count, as before attempts were counted ahead.
	for i := range 5 {
		if _, err := a.Authenticate(t.Context(), p.Email, "bon-mot-de-passe", "10.0.0.1"); err != nil {
			t.Fatalf("login %d: %v", i+1, err)
		}
	}
	window := now.Truncate(15 * time.Minute)
	if n, _ := st.Failures(t.Context(), "address:10.0.0.1", window); n != 0 {
		t.Errorf("the address counted %d after successes only", n)
	}
}

// TestCodesCountAgainstTheAddressToo: second-factor and recovery codes
// from one address count against that address's limit, as passwords do,
// so one address cannot guess codes account after account.
func TestCodesCountAgainstTheAddressToo(t *testing.T) {
	f := newTOTPFixture(t)
	f.enrol(t)
	ctx := t.Context()
	window := f.now.UTC().Truncate(15 * time.Minute)
	// The address already used all but one of its 30 attempts (on other
	// accounts' passwords or codes).
	for range 29 {
		if ok, err := f.st.ReserveAttempt(ctx, window, authn.AttemptLimit{Key: "address:10.0.0.9", Max: 30}); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
	}
	from := authn.WithAddress(ctx, "10.0.0.9")
	if err := f.totp.Verify(from, f.person.ID, "000000"); !errors.Is(err, authn.ErrBadCode) && !errors.Is(err, authn.ErrCodeUsed) {
		t.Fatalf("the address's last attempt: %v, want the code checked", err)
	}
	if err := f.totp.Verify(from, f.person.ID, "000000"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("a code past the address's limit: %v, want ErrTooManyAttempts", err)
	}
	if err := f.totp.UseRecoveryCode(from, f.person.ID, "aaaa-bbbb-cccc"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("a recovery code past the address's limit: %v, want ErrTooManyAttempts", err)
	}
	if err := f.totp.Verify(authn.WithAddress(ctx, "10.0.0.10"), f.person.ID, "000000"); errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("a code from another address: %v, want it checked (the account has room)", err)
	}
}
