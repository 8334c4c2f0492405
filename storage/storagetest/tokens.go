package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// TokenStore is what RunTokenStore needs.
type TokenStore interface {
	oauth.TokenStore
	mandates.Transactor
	mandates.ExpiredStore
}

// RunTokenStore runs the grant-record behaviour suite. newStore returns a
// fresh, empty, migrated store.
func RunTokenStore(t *testing.T, newStore func(t *testing.T) TokenStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s TokenStore)
	}{
		{"a record is stored and read back as written", testTokenRoundTrip},
		{"an unknown record is not found", testTokenNotFound},
		{"one signature per kind", testTokenUnique},
		{"a record is deactivated once and stays readable", testTokenDeactivate},
		{"of concurrent uses of one token exactly one wins", testTokenConcurrentUse},
		{"a whole grant is deactivated, and nothing else", testTokenGrant},
		{"expired records are deleted", testTokenExpiry},
		{"a JWT id is used once until it expires", testJTI},
		{"records written in a failed transaction are not kept", testTokenTx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func newRecord(kind oauth.TokenKind, sig, requestID string) oauth.TokenRecord {
	return oauth.TokenRecord{
		Kind: kind, Signature: sig, RequestID: requestID, ClientID: "site", Subject: "person-1", Active: true,
		Request:   []byte(`{"id":"` + requestID + `","scope":["openid"]}`),
		ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond),
	}
}

func mustCreateToken(t *testing.T, s TokenStore, r oauth.TokenRecord) {
	t.Helper()
	if err := s.CreateToken(t.Context(), r); err != nil {
		t.Fatalf("CreateToken(%s %s): %v", r.Kind, r.Signature, err)
	}
}

func testTokenRoundTrip(t *testing.T, s TokenStore) {
	want := newRecord(oauth.KindRefreshToken, "sig-1", "req-1")
	mustCreateToken(t, s, want)
	got, err := s.Token(t.Context(), oauth.KindRefreshToken, "sig-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != want.RequestID || got.ClientID != want.ClientID || got.Subject != want.Subject || !got.Active ||
		string(got.Request) != string(want.Request) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.CreatedAt.IsZero() {
		t.Errorf("read back\n got  %+v\n want %+v", got, want)
	}
}

func testTokenNotFound(t *testing.T, s TokenStore) {
	ctx := t.Context()
	if _, err := s.Token(ctx, oauth.KindAccessToken, "nope"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Token: %v", err)
	}
	if err := s.DeleteToken(ctx, oauth.KindAccessToken, "nope"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("DeleteToken: %v", err)
	}
	if err := s.DeactivateToken(ctx, oauth.KindAccessToken, "nope"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("DeactivateToken: %v", err)
	}
}

func testTokenUnique(t *testing.T, s TokenStore) {
	mustCreateToken(t, s, newRecord(oauth.KindAuthorizeCode, "same", "req-1"))
	if err := s.CreateToken(t.Context(), newRecord(oauth.KindAuthorizeCode, "same", "req-2")); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("same kind and signature: %v, want ErrAlreadyExists", err)
	}
	mustCreateToken(t, s, newRecord(oauth.KindPKCE, "same", "req-1"))
}

func testTokenDeactivate(t *testing.T, s TokenStore) {
	ctx := t.Context()
	mustCreateToken(t, s, newRecord(oauth.KindAuthorizeCode, "code-1", "req-1"))
	if err := s.DeactivateToken(ctx, oauth.KindAuthorizeCode, "code-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeactivateToken(ctx, oauth.KindAuthorizeCode, "code-1"); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("second use: %v, want ErrConflict", err)
	}
	got, err := s.Token(ctx, oauth.KindAuthorizeCode, "code-1")
	if err != nil || got.Active {
		t.Errorf("after use: %+v, %v; want kept and inactive", got, err)
	}
	if err := s.DeleteToken(ctx, oauth.KindAuthorizeCode, "code-1"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if _, err := s.Token(ctx, oauth.KindAuthorizeCode, "code-1"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func testTokenConcurrentUse(t *testing.T, s TokenStore) {
	mustCreateToken(t, s, newRecord(oauth.KindRefreshToken, "rt", "req-1"))
	const users = 8
	errs := make(chan error, users)
	var wg sync.WaitGroup
	for range users {
		wg.Go(func() { errs <- s.DeactivateToken(t.Context(), oauth.KindRefreshToken, "rt") })
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, mandates.ErrConflict):
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d uses won, want 1", won)
	}
}

func testTokenGrant(t *testing.T, s TokenStore) {
	ctx := t.Context()
	for _, r := range []oauth.TokenRecord{
		newRecord(oauth.KindRefreshToken, "rt-1", "grant-a"),
		newRecord(oauth.KindRefreshToken, "rt-2", "grant-a"),
		newRecord(oauth.KindAccessToken, "at-1", "grant-a"),
		newRecord(oauth.KindRefreshToken, "rt-3", "grant-b"),
	} {
		mustCreateToken(t, s, r)
	}
	n, err := s.DeactivateGrant(ctx, oauth.KindRefreshToken, "grant-a")
	if err != nil || n != 2 {
		t.Fatalf("DeactivateGrant = %d, %v; want 2", n, err)
	}
	for sig, kind := range map[string]oauth.TokenKind{"rt-1": oauth.KindRefreshToken, "rt-2": oauth.KindRefreshToken} {
		if r, _ := s.Token(ctx, kind, sig); r.Active {
			t.Errorf("%s still active", sig)
		}
	}
	if r, _ := s.Token(ctx, oauth.KindAccessToken, "at-1"); !r.Active {
		t.Error("another kind of the grant was deactivated")
	}
	if r, _ := s.Token(ctx, oauth.KindRefreshToken, "rt-3"); !r.Active {
		t.Error("another grant was deactivated")
	}
}

func testTokenExpiry(t *testing.T, s TokenStore) {
	ctx := t.Context()
	old := newRecord(oauth.KindAccessToken, "old", "req-1")
	old.ExpiresAt = time.Now().Add(-time.Minute)
	mustCreateToken(t, s, old)
	mustCreateToken(t, s, newRecord(oauth.KindAccessToken, "live", "req-1"))
	n, err := s.DeleteExpired(ctx, mandates.ExpiredAccessTokens, time.Now(), 100)
	if err != nil || n != 1 {
		t.Errorf("DeleteExpired(access tokens) = %d, %v; want 1", n, err)
	}
	if _, err := s.Token(ctx, oauth.KindAccessToken, "old"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("expired record: %v, want ErrNotFound", err)
	}
	if _, err := s.Token(ctx, oauth.KindAccessToken, "live"); err != nil {
		t.Errorf("live record: %v", err)
	}
}

func testJTI(t *testing.T, s TokenStore) {
	ctx := t.Context()
	now := time.Now()
	if err := s.UseJTI(ctx, "jti-1", now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if err := s.UseJTI(ctx, "jti-1", now.Add(time.Minute), now.Add(30*time.Second)); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("replay: %v, want ErrAlreadyExists", err)
	}
	if err := s.UseJTI(ctx, "jti-1", now.Add(3*time.Minute), now.Add(2*time.Minute)); err != nil {
		t.Errorf("after expiry: %v", err)
	}
}

func testTokenTx(t *testing.T, s TokenStore) {
	mustCreateToken(t, s, newRecord(oauth.KindRefreshToken, "rt-old", "req-1"))
	boom := errors.New("boom")
	err := s.InTx(t.Context(), func(ctx context.Context) error {
		if err := s.DeactivateToken(ctx, oauth.KindRefreshToken, "rt-old"); err != nil {
			return err
		}
		if err := s.CreateToken(ctx, newRecord(oauth.KindRefreshToken, "rt-new", "req-1")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v", err)
	}
	if r, err := s.Token(t.Context(), oauth.KindRefreshToken, "rt-old"); err != nil || !r.Active {
		t.Errorf("the rotated token was not restored: %+v %v", r, err)
	}
	if _, err := s.Token(t.Context(), oauth.KindRefreshToken, "rt-new"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the new token was kept: %v", err)
	}
}
