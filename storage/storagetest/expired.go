package storagetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// ExpiredStore is what RunExpiredStore needs: the deletion of expired
// records, the stores of each kind to write them, and the named leases
// that let one instance run the cleanup.
type ExpiredStore interface {
	CosignatureStore
	mandates.ExpiredStore
	oauth.TokenStore
	oauth.ProofStore
	authn.SessionStore
	authn.PendingLoginStore
	authn.AttemptStore
	authn.AccountCodeStore
	authn.UpstreamLoginStore
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	AcquireJournalLease(ctx context.Context, holder string, now, until time.Time) (bool, error)
}

// Rows counts the rows of a table, read directly from the database.
type Rows func(t *testing.T, table string) int

// RunExpiredStore runs the cleanup's part of the suite. newStore must
// return a fresh, empty, migrated store for each call, closed at
// t.Cleanup, and a way to count a table's rows.
func RunExpiredStore(t *testing.T, newStore func(t *testing.T) (ExpiredStore, Rows)) {
	for _, k := range expiredKinds {
		t.Run(string(k.kind)+": a record just expired is deleted, one not yet expired is kept", func(t *testing.T) {
			st, rows := newStore(t)
			testExpiredBoundary(t, newExpiredFixture(t, st), rows, k)
		})
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, f *expiredFixture, rows Rows)
	}{
		{"at most limit records are deleted per call, until none is left", testExpiredLimit},
		{"each kind of token is deleted by its own kind only; a rotated refresh token still inside its reuse window is kept", testExpiredTokenKinds},
		{"only unanswered co-signature requests are deleted; answered ones stay for the journal", testExpiredCosignatures},
		{"deleting expired records leaves the persons and representations they refer to, and those stay usable", testExpiredReferences},
		{"an unknown kind or a limit below 1 is refused and deletes nothing", testExpiredInvalid},
		{"named leases are held apart; the journal's is the one named journal", testNamedLeases},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, rows := newStore(t)
			tt.fn(t, newExpiredFixture(t, st), rows)
		})
	}
}

// expiredFixture is a store with persons and representations for the
// records that refer to them.
type expiredFixture struct {
	st      ExpiredStore
	w       *world
	persons []string
	measure mandates.Representation // a curatelle renforcée of Jeanne: co-signatures refer to it
}

func newExpiredFixture(t *testing.T, st ExpiredStore) *expiredFixture {
	w := newWorld(t, st)
	return &expiredFixture{st: st, w: w, persons: []string{w.jeanne, w.marie, w.fatima, w.karim, w.operator, w.admin, w.aidant},
		measure: w.curatelle(t)}
}

// expiredKind says how to write one record of a kind, expiring at
// expires; i tells records of one test apart.
type expiredKind struct {
	kind  mandates.ExpiredKind
	table string
	seed  func(t *testing.T, f *expiredFixture, i int, expires time.Time)
}

func digest(parts ...any) []byte {
	h := sha256.Sum256(fmt.Append(nil, parts...))
	return h[:]
}

func seedToken(kind oauth.TokenKind) func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
	return func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		t.Helper()
		if err := f.st.CreateToken(t.Context(), oauth.TokenRecord{Kind: kind, Signature: fmt.Sprint(kind, "-", i), RequestID: fmt.Sprint("grant-", i),
			ClientID: "caf", Subject: f.w.jeanne, Active: true, Request: []byte(`{}`), ExpiresAt: expires, CreatedAt: expires.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}

var expiredKinds = []expiredKind{
	{mandates.ExpiredSessions, "browser_sessions", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		if err := f.st.CreateSession(t.Context(), authn.BrowserSession{ID: fmt.Sprintf("%x", digest("session", i)), PersonID: f.persons[i],
			AuthTime: expires.Add(-time.Hour), AMR: []string{"pwd"}, CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}},
	{mandates.ExpiredPendingLogins, "pending_logins", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		if err := f.st.CreatePendingLogin(t.Context(), authn.PendingLogin{ID: fmt.Sprintf("%x", digest("pending", i)), PersonID: f.persons[i],
			AuthTime: expires.Add(-time.Minute), AMR: []string{"pwd"}, CreatedAt: expires.Add(-time.Minute), ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}},
	{mandates.ExpiredUpstreamLogins, "upstream_logins", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		if err := f.st.SaveUpstreamLogin(t.Context(), authn.UpstreamLogin{StateHash: digest("state", i), Provider: authn.UpstreamFranceConnect,
			Purpose: authn.UpstreamPurposeLogin, BindingHash: digest("binding", i), Return: "/", CreatedAt: expires.Add(-time.Minute), ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}},
	{mandates.ExpiredAccountCodes, "account_codes", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		if err := f.st.ReplaceAccountCode(t.Context(), authn.AccountCode{Hash: digest("code", i), PersonID: f.persons[i], Purpose: authn.PurposeReset,
			CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}},
	{mandates.ExpiredLoginAttempts, "login_attempts", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		// A window's record ends, for DeleteExpired, at its start.
		if ok, err := f.st.ReserveAttempt(t.Context(), expires, authn.AttemptLimit{Key: fmt.Sprint("account:", i), Max: 5}); err != nil || !ok {
			t.Fatalf("ReserveAttempt = %v, %v", ok, err)
		}
	}},
	{mandates.ExpiredCodes, "oauth_tokens", seedToken(oauth.KindAuthorizeCode)},
	{mandates.ExpiredAccessTokens, "oauth_tokens", seedToken(oauth.KindAccessToken)},
	{mandates.ExpiredRefreshTokens, "oauth_tokens", seedToken(oauth.KindRefreshToken)},
	{mandates.ExpiredJTIs, "oauth_jtis", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		if err := f.st.UseJTI(t.Context(), fmt.Sprint("jti-", i), expires, expires.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}},
	{mandates.ExpiredDPoPProofs, "dpop_proofs", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		if err := f.st.UseDPoPProof(t.Context(), fmt.Sprint("proof-", i), expires, expires.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}},
	{mandates.ExpiredConsentCodes, "consent_codes", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		// One code per representation: each record has its own mandate.
		r := newAidantMandate(mandates.NewID(time.Now()), f.persons[i], f.w.org, f.w.aidant)
		r.Status = mandates.StatusPendingConsent
		if err := f.st.CreateRepresentation(t.Context(), r, created(f.w.aidant)); err != nil {
			t.Fatal(err)
		}
		if err := f.st.SaveConsentCode(t.Context(), mandates.ConsentCode{RepresentationID: r.ID, CodeHash: digest("consent", i),
			SentAt: expires.Add(-10 * time.Minute), ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}},
	{mandates.ExpiredCosignatures, "cosignatures", func(t *testing.T, f *expiredFixture, i int, expires time.Time) {
		seedCosignature(t, f, mandates.CosignPending, expires)
	}},
}

func seedCosignature(t *testing.T, f *expiredFixture, status mandates.CosignatureStatus, expires time.Time) mandates.Cosignature {
	t.Helper()
	c := mandates.Cosignature{ID: mandates.NewID(time.Now()), ClientID: "caf", PersonID: f.w.jeanne, ActorID: f.w.jeanne, Action: mandates.Dispose,
		Area: "argent", Description: "Vendre la voiture", RepresentationID: f.measure.ID, Party: mandates.PartyRepresentative,
		Status: status, CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires}
	if status != mandates.CosignPending {
		c.DecidedAt, c.DecidedBy = expires.Add(-30*time.Minute), f.w.marie
	}
	if status == mandates.CosignUsed {
		c.UsedAt = expires.Add(-10 * time.Minute)
	}
	if err := f.st.CreateCosignature(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func deleteExpired(t *testing.T, s ExpiredStore, kind mandates.ExpiredKind, before time.Time, limit int) int {
	t.Helper()
	n, err := s.DeleteExpired(t.Context(), kind, before, limit)
	if err != nil {
		t.Fatalf("DeleteExpired(%s): %v", kind, err)
	}
	return n
}

func testExpiredBoundary(t *testing.T, f *expiredFixture, rows Rows, k expiredKind) {
	now := msNow()
	before := rows(t, k.table)
	k.seed(t, f, 0, now)                       // just expired: its end is now
	k.seed(t, f, 1, now.Add(time.Millisecond)) // not yet
	if got := rows(t, k.table); got != before+2 {
		t.Fatalf("%s holds %d rows after seeding, want %d", k.table, got, before+2)
	}
	if n := deleteExpired(t, f.st, k.kind, now, 100); n != 1 {
		t.Errorf("deleted %d records, want the 1 that expired at now", n)
	}
	if got := rows(t, k.table); got != before+1 {
		t.Errorf("%s holds %d rows, want %d: the record not yet expired must stay", k.table, got, before+1)
	}
	if n := deleteExpired(t, f.st, k.kind, now, 100); n != 0 {
		t.Errorf("a second call deleted %d, want 0", n)
	}
	if n := deleteExpired(t, f.st, k.kind, now.Add(time.Millisecond), 100); n != 1 {
		t.Errorf("a millisecond later, deleted %d, want the 1 left", n)
	}
}

func testExpiredLimit(t *testing.T, f *expiredFixture, rows Rows) {
	now := msNow()
	for _, k := range []expiredKind{expiredKinds[6], expiredKinds[8], expiredKinds[0]} { // access tokens, jtis, sessions
		for i := range 5 {
			k.seed(t, f, i, now.Add(-time.Duration(i+1)*time.Minute))
		}
		var got []int
		for range 4 {
			got = append(got, deleteExpired(t, f.st, k.kind, now, 2))
		}
		if fmt.Sprint(got) != "[2 2 1 0]" {
			t.Errorf("%s: batches of at most 2 deleted %v, want [2 2 1 0]", k.kind, got)
		}
		if n := rows(t, k.table); n != 0 {
			t.Errorf("%s: %d rows left, want 0", k.table, n)
		}
	}
}

func testExpiredTokenKinds(t *testing.T, f *expiredFixture, rows Rows) {
	ctx := t.Context()
	now := msNow()
	for i, kind := range []oauth.TokenKind{oauth.KindAuthorizeCode, oauth.KindPKCE, oauth.KindOpenIDConnect, oauth.KindPAR, oauth.KindAccessToken, oauth.KindRefreshToken} {
		seedToken(kind)(t, f, i, now.Add(-time.Minute))
	}
	// A refresh token rotated a moment ago: inactive, but fosite still
	// needs it until it expires to recognise its reuse (RFC 9700 §4.14.2).
	seedToken(oauth.KindRefreshToken)(t, f, 99, now.Add(time.Hour))
	if err := f.st.DeactivateToken(ctx, oauth.KindRefreshToken, "refresh-99"); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		kind mandates.ExpiredKind
		want int
		left int
	}{{mandates.ExpiredAccessTokens, 1, 6}, {mandates.ExpiredCodes, 4, 2}, {mandates.ExpiredRefreshTokens, 1, 1}} {
		if n := deleteExpired(t, f.st, step.kind, now, 100); n != step.want {
			t.Errorf("%s: deleted %d, want %d", step.kind, n, step.want)
		}
		if n := rows(t, "oauth_tokens"); n != step.left {
			t.Errorf("after %s: %d tokens left, want %d", step.kind, n, step.left)
		}
	}
	r, err := f.st.Token(ctx, oauth.KindRefreshToken, "refresh-99")
	if err != nil || r.Active {
		t.Errorf("the rotated refresh token: active %v, %v; want it kept, inactive", r.Active, err)
	}
}

func testExpiredCosignatures(t *testing.T, f *expiredFixture, rows Rows) {
	ctx := t.Context()
	now := msNow()
	past := now.Add(-time.Minute)
	pending := seedCosignature(t, f, mandates.CosignPending, past)
	var answered []mandates.Cosignature
	for _, st := range []mandates.CosignatureStatus{mandates.CosignApproved, mandates.CosignRefused, mandates.CosignUsed} {
		answered = append(answered, seedCosignature(t, f, st, past))
	}
	live := seedCosignature(t, f, mandates.CosignPending, now.Add(time.Hour))
	if n := deleteExpired(t, f.st, mandates.ExpiredCosignatures, now, 100); n != 1 {
		t.Errorf("deleted %d co-signatures, want the 1 expired unanswered request", n)
	}
	if _, err := f.st.Cosignature(ctx, pending.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the expired pending request: %v, want ErrNotFound", err)
	}
	for _, c := range append(answered, live) {
		if got, err := f.st.Cosignature(ctx, c.ID); err != nil || got.Status != c.Status {
			t.Errorf("co-signature %s (%s): %v, %v; want it kept", c.ID, c.Status, got.Status, err)
		}
	}
	if n := rows(t, "cosignatures"); n != 4 {
		t.Errorf("%d co-signatures left, want 4", n)
	}
	// The site that opened the deleted request may still name it: it is
	// answered, and journaled, as the expired request was.
	f.w.now = now
	before := len(f.w.events.events)
	a := f.w.evaluate(t, f.w.jeanne, f.w.jeanne, mandates.Dispose, "caf", pending.ID)
	if a.Decision != mandates.Cosign || a.Reason.Code != mandates.ReasonCosignExpired {
		t.Errorf("evaluating the deleted request: %s (%s), want cosign, %s", a.Decision, a.Reason.Code, mandates.ReasonCosignExpired)
	}
	if evs := f.w.events.events[before:]; len(evs) != 1 || evs[0].Type != mandates.EventAccessEvaluated || evs[0].Detail["cosignature_id"] != pending.ID {
		t.Errorf("journaled %+v, want one access.evaluated naming %s", evs, pending.ID)
	}
}

func testExpiredReferences(t *testing.T, f *expiredFixture, rows Rows) {
	ctx := t.Context()
	now := msNow()
	for _, k := range expiredKinds {
		k.seed(t, f, 2, now.Add(-time.Minute))
	}
	persons, reps := rows(t, "persons"), rows(t, "representations")
	for _, k := range expiredKinds {
		if n := deleteExpired(t, f.st, k.kind, now, 100); n != 1 {
			t.Errorf("%s: deleted %d, want 1", k.kind, n)
		}
	}
	if p, r := rows(t, "persons"), rows(t, "representations"); p != persons || r != reps {
		t.Errorf("persons %d → %d, representations %d → %d: the cleanup must delete neither", persons, p, reps, r)
	}
	// The person whose session, codes and logins went can log in again,
	// and the measure the request referred to takes a new one.
	s := authn.BrowserSession{ID: fmt.Sprintf("%x", digest("after")), PersonID: f.persons[2], AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.st.CreateSession(ctx, s); err != nil {
		t.Errorf("a new session after the cleanup: %v", err)
	}
	seedCosignature(t, f, mandates.CosignPending, now.Add(time.Hour))
	if _, err := f.st.Representation(ctx, f.measure.ID); err != nil {
		t.Errorf("the measure after the cleanup: %v", err)
	}
}

func testExpiredInvalid(t *testing.T, f *expiredFixture, rows Rows) {
	now := msNow()
	expiredKinds[8].seed(t, f, 0, now.Add(-time.Minute))
	for _, tc := range []struct {
		kind  mandates.ExpiredKind
		limit int
		field string
	}{{"journal_entries", 10, "kind"}, {"", 10, "kind"}, {mandates.ExpiredJTIs, 0, "limit"}, {mandates.ExpiredJTIs, -1, "limit"}} {
		n, err := f.st.DeleteExpired(t.Context(), tc.kind, now, tc.limit)
		var ie *mandates.InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field || n != 0 {
			t.Errorf("DeleteExpired(%q, limit %d) = %d, %v; want an InvalidError on %s", tc.kind, tc.limit, n, err, tc.field)
		}
	}
	if n := rows(t, "oauth_jtis"); n != 1 {
		t.Errorf("%d JWT ids left, want the 1 seeded", n)
	}
}

func testNamedLeases(t *testing.T, f *expiredFixture, _ Rows) {
	ctx := t.Context()
	now := msNow()
	take := func(name, holder string, at time.Time) bool {
		t.Helper()
		ok, err := f.st.AcquireLease(ctx, name, holder, at, at.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("cleanup", "a", now) {
		t.Fatal("a free cleanup lease was refused")
	}
	if !take("journal", "b", now) {
		t.Error("b could not take the journal's lease while a holds the cleanup's")
	}
	if take("cleanup", "b", now.Add(30*time.Second)) {
		t.Error("b took a's cleanup lease before it expired")
	}
	if ok, err := f.st.AcquireJournalLease(ctx, "a", now, now.Add(time.Minute)); err != nil || ok {
		t.Errorf("a took the journal's lease that b holds: %v, %v", ok, err)
	}
	if ok, err := f.st.AcquireJournalLease(ctx, "b", now.Add(10*time.Second), now.Add(time.Minute)); err != nil || !ok {
		t.Errorf("b could not renew the journal's lease through AcquireJournalLease: %v, %v", ok, err)
	}
	if !take("cleanup", "b", now.Add(time.Minute)) {
		t.Error("b could not take the cleanup lease once expired")
	}
	// Instances starting together: exactly one holds the cleanup.
	at := now.Add(time.Hour)
	var wg sync.WaitGroup
	wins := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			if ok, err := f.st.AcquireLease(ctx, "cleanup", fmt.Sprint("h", i), at, at.Add(time.Minute)); err == nil && ok {
				wins <- fmt.Sprint("h", i)
			}
		})
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Errorf("%d holders took the cleanup lease at once, want 1", n)
	}
}
