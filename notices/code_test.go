package notices_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

type chosen notices.Channel

func (c chosen) Channel(context.Context, notices.Addressee) (notices.Channel, error) {
	return notices.Channel(c), nil
}

func testBox(t *testing.T, fill byte) *keyring.SecretBox {
	t.Helper()
	b, err := keyring.NewSecretBox(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestACodeNoticeKeepsItsCodeSealed(t *testing.T) {
	st := newMemStore()
	jeanne := mandates.NewID(time.Now())
	st.persons[jeanne] = mandates.Person{ID: jeanne, Language: "en"}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	box := testBox(t, 7)
	c := &notices.CodeNotices{Store: st, Reader: st, Sealer: box, Now: func() time.Time { return now }}
	expires := now.Add(30 * 24 * time.Hour)

	n, err := c.Write(t.Context(), jeanne, mandates.EventActivationSent, "ABCD-EFGH-JKMN", expires)
	if err != nil {
		t.Fatal(err)
	}
	stored := st.byID[n.ID]
	if stored.Channel != notices.Paper || stored.RecipientID != jeanne || stored.Lang != "en" || stored.Status != notices.Pending {
		t.Errorf("the notice is %+v; want a pending letter to Jeanne, in her language", stored)
	}
	for k, v := range stored.Data {
		if strings.Contains(v, "ABCD") {
			t.Errorf("Data[%s] holds the code readable: %q", k, v)
		}
	}
	code, until, err := notices.OpenCode(box, stored)
	if err != nil || code != "ABCD-EFGH-JKMN" || !until.Equal(expires) {
		t.Errorf("OpenCode = %q, %v, %v; want the code and its expiry", code, until, err)
	}

	// The letter that replaces a failed email copies the Data: it opens.
	fallback := stored
	fallback.ID = mandates.NewID(now)
	if code, _, err := notices.OpenCode(box, fallback); err != nil || code != "ABCD-EFGH-JKMN" {
		t.Errorf("the fallback letter's code: %q, %v", code, err)
	}
	// Copied onto another person's notice, or opened with another key: no code.
	other := stored
	other.PersonID = mandates.NewID(now)
	for name, try := range map[string]func() error{
		"another person's notice":  func() error { _, _, err := notices.OpenCode(box, other); return err },
		"another deployment's key": func() error { _, _, err := notices.OpenCode(testBox(t, 8), stored); return err },
		"no sealer":                func() error { _, _, err := notices.OpenCode(nil, stored); return err },
	} {
		if err := try(); !errors.Is(err, notices.ErrNoCode) {
			t.Errorf("%s: %v, want ErrNoCode", name, err)
		}
	}

	// The person's chosen channel carries it.
	c.Channels = chosen(notices.SMS)
	n, err = c.Write(t.Context(), jeanne, mandates.EventPasswordResetRequested, "PQRS-TUVW-XYZ2", now.Add(time.Hour))
	if err != nil || st.byID[n.ID].Channel != notices.SMS {
		t.Errorf("with SMS chosen: %+v, %v", st.byID[n.ID], err)
	}
	// Nobody to write to: nothing written.
	before := len(st.byID)
	if _, err := c.Write(t.Context(), mandates.NewID(now), mandates.EventActivationSent, "ABCD-EFGH-JKMN", expires); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a code for nobody: %v, want ErrNotFound", err)
	}
	if len(st.byID) != before {
		t.Error("a notice was written for nobody")
	}
}
