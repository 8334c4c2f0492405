package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

// recorded keeps the events emitted, as the journal would, in the
// transaction's order: a rolled-back event is not taken out, so tests
// read what was emitted, and the store for what committed.
type recorded struct {
	mu     sync.Mutex
	events []mandates.Event
}

func (r *recorded) Emit(_ context.Context, e mandates.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorded) of(t mandates.EventType) []mandates.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mandates.Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// chosen is every person's channel.
type chosen struct{ ch *notices.Channel }

func (c chosen) Channel(context.Context, notices.Addressee) (notices.Channel, error) {
	return *c.ch, nil
}

type world struct {
	t        testing.TB
	ctx      context.Context
	st       *sqlite.Store
	clock    time.Time
	channel  notices.Channel
	box      *keyring.SecretBox
	events   *recorded
	recovery *accounts.Recovery
	jeanne   mandates.Person
	waits    []time.Duration // what Request waited, instead of sleeping
}

const oldPassword = "l'ancien mot de passe"

func newWorld(t *testing.T) *world {
	t.Helper()
	w := openWorld(t)
	now := func() time.Time { return w.clock }
	// The notices' sink, as relais serve has it: a new password is told
	// to the person on paper (notices.Rules).
	sink := &notices.Notifier{Sink: w.events, Store: w.st, Reader: w.st, Channels: chosen{&w.channel}, Now: now}
	codes := authn.NewAccountCodes(w.st, w.st, authn.CodeLimits{}, now)
	codeNotices := &notices.CodeNotices{Store: w.st, Reader: w.st, Channels: chosen{&w.channel}, Sealer: w.box, Now: now}
	w.recovery = accounts.NewRecovery(w.st, codes, codeNotices, sink, nil, accounts.RecoveryLimits{}, now,
		accounts.WithAnswerTime(accounts.DefaultAnswerTime, func(_ context.Context, d time.Duration) error {
			w.waits = append(w.waits, d)
			return nil
		}))
	return w
}

// openWorld is a migrated SQLite store with Jeanne, who has a password.
func openWorld(t testing.TB) *world {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	w := &world{t: t, ctx: ctx, st: st, clock: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), channel: notices.Paper, events: &recorded{}}
	w.box, _ = keyring.NewSecretBox(bytes.Repeat([]byte{3}, 32))
	w.jeanne = w.person("jeanne@example.fr")
	return w
}

func (w *world) person(email string) mandates.Person {
	w.t.Helper()
	p := mandates.Person{ID: mandates.NewID(w.clock), GivenNames: "Jeanne", FamilyName: "Lefèvre", BirthDate: mandates.Date(1941, 3, 12),
		Email: email, PasswordHash: authn.HashPassword(oldPassword)}
	if err := w.st.CreatePerson(w.ctx, p); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// sentCode is the code of the person's newest notice of kind, and until
// when it works.
func (w *world) sentCode(personID string, kind mandates.EventType) (notices.Notice, string, time.Time) {
	w.t.Helper()
	list, err := w.st.NoticesOf(w.ctx, personID, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, n := range list {
		if n.Kind == kind {
			code, until, err := notices.OpenCode(w.box, n)
			if err != nil {
				w.t.Fatal(err)
			}
			return n, code, until
		}
	}
	w.t.Fatalf("no notice %s to %s", kind, personID)
	return notices.Notice{}, "", time.Time{}
}

func (w *world) notices(personID string) []notices.Notice {
	w.t.Helper()
	list, err := w.st.NoticesOf(w.ctx, personID, 50)
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

func (w *world) session(personID, upstream string, authTime time.Time) string {
	w.t.Helper()
	_, id := authn.NewSessionToken()
	if err := w.st.CreateSession(w.ctx, authn.BrowserSession{ID: id, PersonID: personID, AuthTime: authTime, AMR: []string{"pwd"},
		CreatedAt: authTime, ExpiresAt: authTime.Add(24 * time.Hour), Upstream: upstream}); err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) alive(id string) bool {
	_, err := w.st.Session(w.ctx, id, w.clock)
	if err != nil && !errors.Is(err, mandates.ErrNotFound) {
		w.t.Fatal(err)
	}
	return err == nil
}

func (w *world) passwordIs(personID, password string) bool {
	w.t.Helper()
	p, err := w.st.Person(w.ctx, personID)
	if err != nil {
		w.t.Fatal(err)
	}
	ok, err := authn.VerifyPassword(p.PasswordHash, password)
	if err != nil {
		w.t.Fatal(err)
	}
	return ok
}

const newPassword = "un tout nouveau mot de passe"

func TestAResetCodeGoesByLetterUnlessThePersonChoseEmailOrSMS(t *testing.T) {
	for _, tt := range []struct {
		channel notices.Channel
		ttl     time.Duration
	}{{notices.Paper, 15 * 24 * time.Hour}, {notices.Email, time.Hour}, {notices.SMS, time.Hour}} {
		t.Run(string(tt.channel), func(t *testing.T) {
			w := newWorld(t)
			w.channel = tt.channel
			if err := w.recovery.Request(w.ctx, " JEANNE@example.fr ", "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			n, code, until := w.sentCode(w.jeanne.ID, mandates.EventPasswordResetRequested)
			if n.Channel != tt.channel || n.RecipientID != w.jeanne.ID || !until.Equal(w.clock.Add(tt.ttl)) {
				t.Errorf("notice %s to %s until %v; want %s to Jeanne until %v", n.Channel, n.RecipientID, until, tt.channel, w.clock.Add(tt.ttl))
			}
			evs := w.events.of(mandates.EventPasswordResetRequested)
			if len(evs) != 1 || evs[0].PersonID != w.jeanne.ID || evs[0].Detail["channel"] != string(tt.channel) {
				t.Fatalf("journaled %+v; want one request in Jeanne's chain, naming the channel", evs)
			}
			for k, v := range evs[0].Detail {
				if strings.Contains(v, code[:4]) {
					t.Errorf("the journal's Detail[%s] holds the code", k)
				}
			}
			// The code notice is the only notice: the event is not notified
			// a second time without the code.
			if got := w.notices(w.jeanne.ID); len(got) != 1 {
				t.Errorf("%d notices, want the code's alone", len(got))
			}
			if _, err := w.recovery.ResetWithCode(w.ctx, code, newPassword, newPassword, "192.0.2.1", ""); err != nil {
				t.Errorf("the code sent: %v", err)
			}
		})
	}
}

func TestAnUnknownEmailGetsTheSameAnswerAndCountsTheSame(t *testing.T) {
	w := newWorld(t)
	for i := range 3 {
		for _, email := range []string{"jeanne@example.fr", "nobody@example.fr"} {
			if err := w.recovery.Request(w.ctx, email, "192.0.2."+string(rune('1'+i))); err != nil {
				t.Fatalf("request %d for %s: %v, want the same nil", i+1, email, err)
			}
		}
	}
	if got := len(w.notices(w.jeanne.ID)); got != 3 {
		t.Errorf("%d notices to Jeanne, want 3", got)
	}
	// The fourth request within the hour is refused alike, account or not.
	for _, email := range []string{"jeanne@example.fr", "nobody@example.fr"} {
		if err := w.recovery.Request(w.ctx, email, "192.0.2.9"); !errors.Is(err, authn.ErrTooManyAttempts) {
			t.Errorf("fourth request for %s: %v, want ErrTooManyAttempts", email, err)
		}
	}
	if got := len(w.notices(w.jeanne.ID)); got != 3 {
		t.Errorf("%d notices to Jeanne after the limit, want still 3", got)
	}
	if n := len(w.events.of(mandates.EventPasswordResetRequested)); n != 3 {
		t.Errorf("%d requests journaled, want 3 (the refused and the unknown are not)", n)
	}
	// Every answer, sent, unknown or refused, waited for the same answer
	// time (the test's clock stands still: the whole of it).
	if len(w.waits) != 8 {
		t.Errorf("%d waits for 8 requests", len(w.waits))
	}
	for i, d := range w.waits {
		if d != accounts.DefaultAnswerTime {
			t.Errorf("request %d waited %v, want %v", i+1, d, accounts.DefaultAnswerTime)
		}
	}
	// An hour later, the count starts again.
	w.clock = w.clock.Add(time.Hour)
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "192.0.2.9"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

func TestOneAddressAsksForAFewCodesAnHour(t *testing.T) {
	w := newWorld(t)
	for i := range 20 {
		if err := w.recovery.Request(w.ctx, "person"+string(rune('a'+i))+"@example.fr", "198.51.100.7"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "198.51.100.7"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("the 21st request from one address: %v, want ErrTooManyAttempts", err)
	}
	if got := len(w.notices(w.jeanne.ID)); got != 0 {
		t.Errorf("a refused request wrote %d notices", got)
	}
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "198.51.100.8"); err != nil {
		t.Errorf("another address: %v", err)
	}
}

func TestANewPasswordWithTheCode(t *testing.T) {
	w := newWorld(t)
	paul := w.person("paul@example.fr")
	mine, other, pauls := w.session(w.jeanne.ID, "", w.clock), w.session(w.jeanne.ID, "", w.clock), w.session(paul.ID, "", w.clock)
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, code, _ := w.sentCode(w.jeanne.ID, mandates.EventPasswordResetRequested)
	w.clock = w.clock.Add(time.Hour)
	// Jeanne locked herself out trying old passwords.
	auth := authn.NewAuthenticator(w.st, w.st, authn.LoginLimits{}, func() time.Time { return w.clock }, w.events, w.st)
	for range 5 {
		if _, err := auth.Authenticate(w.ctx, "jeanne@example.fr", "une vieille idée", "192.0.2.1"); !errors.Is(err, authn.ErrBadCredentials) {
			t.Fatalf("a wrong password: %v", err)
		}
	}
	if _, err := auth.Authenticate(w.ctx, "jeanne@example.fr", oldPassword, "192.0.2.1"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Fatalf("locked out: %v, want ErrTooManyAttempts", err)
	}

	got, err := w.recovery.ResetWithCode(w.ctx, strings.ToLower(code), newPassword, newPassword, "192.0.2.1", mine)
	if err != nil || got != w.jeanne.ID {
		t.Fatalf("ResetWithCode = %s, %v; want Jeanne", got, err)
	}
	if !w.passwordIs(w.jeanne.ID, newPassword) {
		t.Error("the new password does not work")
	}
	if _, err := auth.Authenticate(w.ctx, "jeanne@example.fr", newPassword, "192.0.2.1"); err != nil {
		t.Errorf("the new password at once, after being locked out: %v", err)
	}
	if !w.alive(mine) || w.alive(other) || !w.alive(pauls) {
		t.Errorf("sessions: the browser's %v, Jeanne's other %v, Paul's %v; want true, false, true", w.alive(mine), w.alive(other), w.alive(pauls))
	}
	evs := w.events.of(mandates.EventPasswordReset)
	if len(evs) != 1 || evs[0].PersonID != w.jeanne.ID || evs[0].ActorID != w.jeanne.ID || evs[0].Detail["by"] != "code" {
		t.Errorf("journaled %+v; want one reset by code in Jeanne's chain", evs)
	}
	// Told on paper, whatever channel she chose.
	var letter bool
	for _, n := range w.notices(w.jeanne.ID) {
		letter = letter || n.Kind == mandates.EventPasswordReset && n.Channel == notices.Paper
	}
	if !letter {
		t.Error("no letter tells Jeanne her password changed")
	}
	// Used once.
	if _, err := w.recovery.ResetWithCode(w.ctx, code, "encore un autre mot de passe", "encore un autre mot de passe", "192.0.2.1", ""); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("the code used again: %v, want ErrBadCode", err)
	}
}

func TestARefusedNewPasswordKeepsTheCode(t *testing.T) {
	w := newWorld(t)
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, code, _ := w.sentCode(w.jeanne.ID, mandates.EventPasswordResetRequested)
	for _, tt := range []struct {
		name, password, again string
		want                  error
	}{
		{"too short", "court", "court", authn.ErrPasswordTooShort},
		{"eleven characters", "onze caract", "onze caract", authn.ErrPasswordTooShort},
		{"too long", strings.Repeat("é", 129), strings.Repeat("é", 129), authn.ErrPasswordTooLong},
		{"typed differently twice", newPassword, newPassword + "!", authn.ErrPasswordsDiffer},
		{"not typed again", newPassword, "", authn.ErrPasswordsDiffer},
	} {
		if _, err := w.recovery.ResetWithCode(w.ctx, code, tt.password, tt.again, "192.0.2.1", ""); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if !w.passwordIs(w.jeanne.ID, oldPassword) || len(w.events.of(mandates.EventPasswordReset)) != 0 {
		t.Error("a refused password changed something")
	}
	if _, err := w.recovery.ResetWithCode(w.ctx, code, "douze caract", "douze caract", "192.0.2.1", ""); err != nil {
		t.Errorf("twelve characters, with the code kept: %v", err)
	}
}

func TestAWrongOrOldCodeChangesNothing(t *testing.T) {
	w := newWorld(t)
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, first, _ := w.sentCode(w.jeanne.ID, mandates.EventPasswordResetRequested)
	w.clock = w.clock.Add(time.Minute)
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, second, _ := w.sentCode(w.jeanne.ID, mandates.EventPasswordResetRequested)
	if first == second {
		t.Fatal("the second request sent the same code")
	}
	if _, err := w.recovery.ResetWithCode(w.ctx, first, newPassword, newPassword, "192.0.2.1", ""); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("the first code after a second was sent: %v, want ErrBadCode", err)
	}
	w.clock = w.clock.Add(15*24*time.Hour + time.Minute) // past the letter's fifteen days
	if _, err := w.recovery.ResetWithCode(w.ctx, second, newPassword, newPassword, "192.0.2.2", ""); !errors.Is(err, authn.ErrCodeExpired) {
		t.Errorf("an expired code: %v, want ErrCodeExpired", err)
	}
	if !w.passwordIs(w.jeanne.ID, oldPassword) || len(w.events.of(mandates.EventPasswordReset)) != 0 {
		t.Error("a wrong or expired code changed the password")
	}
}

func TestWrongCodesFromOneAddressAreCounted(t *testing.T) {
	w := newWorld(t)
	// The count of wrong codes commits although the reset does not:
	// ten wrong codes, then even the right one is refused from there.
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, code, _ := w.sentCode(w.jeanne.ID, mandates.EventPasswordResetRequested)
	for i := range 10 {
		if _, err := w.recovery.ResetWithCode(w.ctx, "AAAA-BBBB-CCC"+string(rune('A'+i)), newPassword, newPassword, "203.0.113.5", ""); !errors.Is(err, authn.ErrBadCode) {
			t.Fatalf("wrong code %d: %v, want ErrBadCode", i+1, err)
		}
	}
	if _, err := w.recovery.ResetWithCode(w.ctx, code, newPassword, newPassword, "203.0.113.5", ""); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("after ten wrong codes: %v, want ErrTooManyAttempts", err)
	}
	if _, err := w.recovery.ResetWithCode(w.ctx, code, newPassword, newPassword, "203.0.113.6", ""); err != nil {
		t.Errorf("the right code from another address: %v", err)
	}
}

func TestAnActivationCodeIsNoResetCode(t *testing.T) {
	w := newWorld(t)
	codes := authn.NewAccountCodes(w.st, w.st, authn.CodeLimits{}, func() time.Time { return w.clock })
	code, err := codes.Issue(w.ctx, w.jeanne.ID, authn.PurposeActivation, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.recovery.ResetWithCode(w.ctx, code, newPassword, newPassword, "192.0.2.1", ""); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("an activation code: %v, want ErrBadCode", err)
	}
}

func TestANewPasswordAfterAFreshFranceConnectLogin(t *testing.T) {
	w := newWorld(t)
	fc := w.session(w.jeanne.ID, authn.UpstreamFranceConnect, w.clock)
	other := w.session(w.jeanne.ID, "", w.clock)
	sess, err := w.st.Session(w.ctx, fc, w.clock)
	if err != nil {
		t.Fatal(err)
	}
	pwd, err := w.st.Session(w.ctx, other, w.clock)
	if err != nil {
		t.Fatal(err)
	}
	w.clock = w.clock.Add(9 * time.Minute)
	if err := w.recovery.FranceConnectReset(pwd); !errors.Is(err, accounts.ErrNotFranceConnect) {
		t.Errorf("a password login: %v, want ErrNotFranceConnect", err)
	}
	if err := w.recovery.ResetAfterFranceConnect(w.ctx, pwd, newPassword, newPassword); !errors.Is(err, accounts.ErrNotFranceConnect) {
		t.Errorf("a password login sets a password: %v, want ErrNotFranceConnect", err)
	}
	if err := w.recovery.ResetAfterFranceConnect(w.ctx, sess, "court", "court"); !errors.Is(err, authn.ErrPasswordTooShort) {
		t.Errorf("a short password: %v", err)
	}
	if err := w.recovery.ResetAfterFranceConnect(w.ctx, sess, newPassword, newPassword); err != nil {
		t.Fatalf("nine minutes after a FranceConnect login: %v", err)
	}
	if !w.passwordIs(w.jeanne.ID, newPassword) || !w.alive(fc) || w.alive(other) {
		t.Error("want the new password, the FranceConnect session kept and the other ended")
	}
	evs := w.events.of(mandates.EventPasswordReset)
	if len(evs) != 1 || evs[0].Detail["by"] != "franceconnect" || evs[0].PersonID != w.jeanne.ID {
		t.Errorf("journaled %+v; want one reset by franceconnect", evs)
	}
	w.clock = w.clock.Add(2 * time.Minute) // eleven minutes after the login
	if err := w.recovery.ResetAfterFranceConnect(w.ctx, sess, "encore un autre mot de passe", "encore un autre mot de passe"); !errors.Is(err, accounts.ErrLoginTooOld) {
		t.Errorf("eleven minutes after: %v, want ErrLoginTooOld", err)
	}
	if !w.passwordIs(w.jeanne.ID, newPassword) {
		t.Error("a stale login changed the password")
	}
}

func TestARequestThatFailsWritesNothing(t *testing.T) {
	w := newWorld(t)
	w.channel = "pigeon" // not a channel: the notice is refused, so is the code
	if err := w.recovery.Request(w.ctx, "jeanne@example.fr", "192.0.2.1"); err == nil {
		t.Fatal("a notice that cannot be written: nil error")
	}
	if got := w.notices(w.jeanne.ID); len(got) != 0 {
		t.Errorf("%d notices after a failed request", len(got))
	}
	if slices.ContainsFunc(w.notices(w.jeanne.ID), func(n notices.Notice) bool { return n.Kind == mandates.EventPasswordResetRequested }) {
		t.Error("a code notice committed")
	}
}

// A person without an email names their account by the login name of their
// activation letter, as on the login page.
func TestAResetCodeForAPersonKnownByTheirLoginName(t *testing.T) {
	w := newWorld(t)
	rose := w.person("")
	if err := w.st.SetLoginName(w.ctx, rose.ID, "rose.durand.4821"); err != nil {
		t.Fatal(err)
	}
	if err := w.recovery.Request(w.ctx, " Rose.Durand.4821 ", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	n, code, _ := w.sentCode(rose.ID, mandates.EventPasswordResetRequested)
	if code == "" || n.Channel != notices.Paper {
		t.Fatalf("no letter with a code for the login name: %+v", n)
	}
	if got := len(w.notices(w.jeanne.ID)); got != 0 {
		t.Errorf("Jeanne got %d notices", got)
	}
}
