package words_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
)

// named is the fixture with login names, as both stores have them.
type named struct {
	*store
	names map[string]string
}

func (n named) LoginName(_ context.Context, personID string) (string, error) {
	if name, ok := n.names[personID]; ok {
		return name, nil
	}
	return "", mandates.ErrNotFound
}

// TestTheActivationLetterGivesTheLoginName: a person opened at a desk
// learns from the letter what to type on the login page; a person without
// a login name, or a reset code, gets no such line.
func TestTheActivationLetterGivesTheLoginName(t *testing.T) {
	s := named{store: fixture(), names: map[string]string{id("jeanne"): "jeanne.lefevre.4821"}}
	box, err := keyring.NewSecretBox(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	w, err := words.New(s, words.Options{Sender: "France Services Nantes", Contact: "02 40 41 42 43", Now: func() time.Time { return day },
		Site: "https://relais.example.fr/", Codes: box})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		person string
		kind   mandates.EventType
		want   string
	}{
		{"jeanne", mandates.EventActivationSent, "Ensuite, pour vous connecter, tapez votre identifiant : jeanne.lefevre.4821"},
		{"jeanne", mandates.EventPasswordResetRequested, ""},
		{"anne", mandates.EventActivationSent, ""},
	}
	for _, c := range cases {
		out := &outbox{}
		codes := &notices.CodeNotices{Store: out, Reader: s, Sealer: box, Now: func() time.Time { return day }}
		if _, err := codes.Write(t.Context(), id(c.person), c.kind, "ABCD-EFGH-JKMN", day.Add(30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		m, err := w.Write(t.Context(), out.last)
		if err != nil {
			t.Fatal(err)
		}
		has := slices.ContainsFunc(m.Lines, func(l string) bool {
			return bytes.Contains([]byte(l), []byte("identifiant")) || bytes.Contains([]byte(l), []byte("login name"))
		})
		if c.want != "" && !slices.Contains(m.Lines, c.want) || c.want == "" && has {
			t.Errorf("%s, %s: lines %q; want the login name line %q", c.person, c.kind, m.Lines, c.want)
		}
	}
}
