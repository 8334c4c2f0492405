package authz_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// recorded reads back what the journal holds, in every chain.
func recorded(t *testing.T, st *sqlite.Store) []journal.Stored {
	t.Helper()
	var out []journal.Stored
	if err := st.JournalEntries(t.Context(), "", func(s journal.Stored) error { out = append(out, s); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func types(es []journal.Stored) []mandates.EventType {
	var out []mandates.EventType
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func realJournal(st *sqlite.Store) mandates.EventSink { return journal.New(st, journal.Options{}) }

// failingSink refuses every event, as a journal whose store fails does.
type failingSink struct{}

func (failingSink) Emit(context.Context, mandates.Event) error {
	return errors.New("the journal is down")
}

// TestTokenEvents drives each token act at the endpoints and reads the
// journal: type, person, actor and site of each entry.
func TestTokenEvents(t *testing.T) {
	f := newFlowEvents(t, nil, realJournal)
	ctx := context.Background()
	conf := f.oauth2Config("openid", "offline_access")
	var first, second *oauth2.Token
	acts := []struct {
		name string
		act  func() error
		want []mandates.EventType
	}{
		{"a code exchanged for tokens", func() (err error) {
			verifier := oauth2.GenerateVerifier()
			q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-123456")))
			first, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			return err
		}, []mandates.EventType{mandates.EventTokenIssued}},
		{"a refresh", func() (err error) {
			second, err = refreshErr(f, first.RefreshToken)
			return err
		}, []mandates.EventType{mandates.EventTokenIssued}},
		{"a refused code (made up) writes nothing", func() error {
			_, err := conf.Exchange(ctx, "made-up-code", oauth2.VerifierOption(oauth2.GenerateVerifier()))
			if err == nil {
				return errors.New("a made-up code was accepted")
			}
			return nil
		}, nil},
		{"a client's own token (client credentials) has no person", func() error {
			code, m := postForm(t, f, "/token", url.Values{"grant_type": {"client_credentials"}})
			if code != 200 {
				return errors.New("client credentials refused: " + m["error"].(string))
			}
			return nil
		}, nil},
		{"a revoked token", func() error {
			revoke(t, f, second.AccessToken)
			return nil
		}, []mandates.EventType{mandates.EventTokenRevoked}},
		{"the rotated refresh token used again", func() error {
			if _, err := refreshErr(f, first.RefreshToken); !isOAuthError(err, "invalid_grant") {
				return errors.Join(errors.New("reuse was not refused"), err)
			}
			return nil
		}, []mandates.EventType{mandates.EventRefreshTokenReused}},
	}
	before := 0
	for _, a := range acts {
		if err := a.act(); err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		got := recorded(t, f.store)
		added := got[before:]
		before = len(got)
		if !slices.Equal(types(added), a.want) {
			t.Errorf("%s: journal added %v, want %v", a.name, types(added), a.want)
		}
		for _, e := range added {
			if e.PersonID != f.person.ID || e.ActorID != f.person.ID || e.ClientID != f.client.ID {
				t.Errorf("%s: entry for %q by %q at %q, want %q by themselves at %q", a.name, e.PersonID, e.ActorID, e.ClientID, f.person.ID, f.client.ID)
			}
			if e.Type == mandates.EventTokenIssued && (e.Detail == nil || e.Detail.Fields["grant_type"] == "") {
				t.Errorf("%s: no grant type in the detail: %+v", a.name, e.Detail)
			}
		}
	}
	if rep, err := journal.Verify(ctx, f.store, nil, ""); err != nil || !rep.OK() {
		t.Errorf("the journal does not verify: %v %v", err, rep.Failure)
	}
}

// TestATokenIsRefusedWhenItsEventCannotBeWritten: no token without its
// entry.
func TestATokenIsRefusedWhenItsEventCannotBeWritten(t *testing.T) {
	f := newFlowEvents(t, nil, func(*sqlite.Store) mandates.EventSink { return failingSink{} })
	conf := f.oauth2Config("openid")
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-123456")))
	if _, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a token was issued though its event could not be written")
	}
}

// TestConsentAndLogoutEvents: a consent given at a site and the end of a
// browser session are journaled with the store's write.
func TestConsentAndLogoutEvents(t *testing.T) {
	f := newFlowEvents(t, nil, realJournal)
	ctx := t.Context()
	now := time.Now()
	sink := realJournal(f.store)
	consents := authn.JournaledConsents(f.store, sink, f.store)
	if err := consents.SaveConsent(ctx, authn.Consent{PersonID: f.person.ID, ClientID: f.client.ID, Scopes: []string{"openid"}, GrantedAt: now}); err != nil {
		t.Fatal(err)
	}
	sessions := authn.JournaledSessions(f.store, sink, f.store, nil)
	_, id := authn.NewSessionToken()
	if err := sessions.CreateSession(ctx, authn.BrowserSession{ID: id, PersonID: f.person.ID, AuthTime: now, AMR: []string{"pwd"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := sessions.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := consents.DeleteConsent(ctx, f.person.ID, f.client.ID); err != nil {
		t.Fatal(err)
	}
	if err := consents.SaveConsent(ctx, authn.Consent{PersonID: f.person.ID, ClientID: f.client.ID, Scopes: []string{"openid"}, GrantedAt: now}); err != nil {
		t.Fatal(err)
	}
	got := recorded(t, f.store)
	want := []mandates.EventType{mandates.EventSiteConsentGiven, mandates.EventLoggedOut, mandates.EventSiteConsentWithdrawn, mandates.EventSiteConsentGiven}
	if !slices.Equal(types(got), want) {
		t.Fatalf("journal holds %v, want %v", types(got), want)
	}
	if got[0].ClientID != f.client.ID || got[0].PersonID != f.person.ID || got[1].PersonID != f.person.ID {
		t.Errorf("entries %+v %+v", got[0].Entry, got[1].Entry)
	}
	// A failing journal keeps the consent unsaved.
	failing := authn.JournaledConsents(f.store, failingSink{}, f.store)
	if err := failing.SaveConsent(ctx, authn.Consent{PersonID: f.person.ID, ClientID: f.client.ID, Scopes: []string{"openid", "profile"}, GrantedAt: now}); err == nil {
		t.Error("a consent was saved though its event could not be written")
	}
	if c, err := f.store.Consent(ctx, f.person.ID, f.client.ID); err != nil || len(c.Scopes) != 1 {
		t.Errorf("after a failed journal, consent %v %v, want the first one kept", c, err)
	}
}

// BenchmarkRefreshWithAndWithoutJournal measures the token endpoint's
// refresh grant in process on SQLite, over HTTP on loopback, with the
// journal on and off (issue 7 point 6: at most 10 % more):
//
//	go test ./authz -run '^$' -bench RefreshWithAndWithoutJournal -count 5
func BenchmarkRefreshWithAndWithoutJournal(b *testing.B) {
	for _, c := range []struct {
		name   string
		events func(*sqlite.Store) mandates.EventSink
	}{{"journal-off", nil}, {"journal-on", realJournal}} {
		b.Run(c.name, func(b *testing.B) {
			f := newFlowEvents(b, nil, c.events)
			conf := f.oauth2Config("openid", "offline_access")
			verifier := oauth2.GenerateVerifier()
			q := f.authorize(b, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-123456")))
			tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				b.Fatal(err)
			}
			rt := tok.RefreshToken
			b.ResetTimer()
			for b.Loop() {
				next, err := refreshErr(f, rt)
				if err != nil {
					b.Fatal(err)
				}
				rt = next.RefreshToken
			}
		})
	}
}
