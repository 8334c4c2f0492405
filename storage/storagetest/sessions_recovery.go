package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// testDeletePersonSessions: a new password ends every session of the
// person but the one kept, and nobody else's.
func testDeletePersonSessions(t *testing.T, s Store) {
	ctx := t.Context()
	jeanne, paul := newPerson("jeanne@example.fr"), newPerson("paul@example.fr")
	mustCreatePerson(t, s, jeanne)
	mustCreatePerson(t, s, paul)
	now := time.Now().UTC().Truncate(time.Millisecond)
	session := func(personID string) string {
		_, id := authn.NewSessionToken()
		if err := s.CreateSession(ctx, authn.BrowserSession{ID: id, PersonID: personID, AuthTime: now, AMR: []string{"pwd"},
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	kept, other1, other2, pauls := session(jeanne.ID), session(jeanne.ID), session(jeanne.ID), session(paul.ID)

	n, err := s.DeletePersonSessions(ctx, jeanne.ID, kept)
	if err != nil || n != 2 {
		t.Fatalf("DeletePersonSessions(Jeanne, keep one) = %d, %v; want 2 ended", n, err)
	}
	for _, id := range []string{other1, other2} {
		if _, err := s.Session(ctx, id, now); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("Jeanne's other session after DeletePersonSessions: %v, want ErrNotFound", err)
		}
	}
	for name, id := range map[string]string{"the kept session": kept, "Paul's session": pauls} {
		if _, err := s.Session(ctx, id, now); err != nil {
			t.Errorf("%s after DeletePersonSessions(Jeanne): %v, want it still there", name, err)
		}
	}
	// Nothing kept: every session of the person ends.
	if n, err := s.DeletePersonSessions(ctx, jeanne.ID, ""); err != nil || n != 1 {
		t.Errorf("DeletePersonSessions(Jeanne, keep none) = %d, %v; want the last one ended", n, err)
	}
	// In a transaction that fails, nothing ends.
	again := session(jeanne.ID)
	boom := errors.New("boom")
	err = s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.DeletePersonSessions(ctx, jeanne.ID, ""); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if _, err := s.Session(ctx, again, now); err != nil {
		t.Errorf("a session ended in a rolled-back transaction: %v", err)
	}
}
