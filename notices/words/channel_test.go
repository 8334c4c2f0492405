package words_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
)

// TestTheLetterOfANewChannelSaysWhoChoseAndWhere: when Marie, Jeanne's
// tutor, chose email for her, the letter says Marie made the choice, where
// the letters now go in a masked form, and does not ask whether it was
// Jeanne; when Jeanne chose herself, it asks whether it was her.
func TestTheLetterOfANewChannelSaysWhoChoseAndWhere(t *testing.T) {
	w, err := words.New(fixture(), words.Options{Sender: "France Services Nantes", Contact: "02 40 41 42 43",
		Contacts: contacts{id("jeanne"): {Email: "jeanne.lefevre@example.fr", Phone: "+33612345678"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, actor, channel, lang string
		want, not                  []string
	}{
		{"the tutor chose email", "marie", "email", "fr",
			[]string{"Marie Martin a fait ce choix pour vous.", "Vos courriers iront à : j•••@example.fr."},
			[]string{"c’est bien vous", "Ce n’est pas vous", "jeanne.lefevre"}},
		{"the tutor chose SMS", "marie", "sms", "fr",
			[]string{"Marie Martin a fait ce choix pour vous.", "Vos courriers iront à : 06 •• •• •• 78."},
			[]string{"c’est bien vous", "Ce n’est pas vous", "12 34 56"}},
		{"the tutor chose email, in English", "marie", "email", "en",
			[]string{"Marie Martin made this choice for you.", "Your letters will go to: j•••@example.fr."},
			[]string{"it was you", "Was it not you", "jeanne.lefevre"}},
		{"Jeanne chose email", "jeanne", "email", "fr",
			[]string{"Vos courriers iront à : j•••@example.fr.", "Ce n’est pas vous ? Contactez-nous vite : 02 40 41 42 43."},
			[]string{"a fait ce choix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := notice(channelConfirmed, "jeanne", "jeanne", notices.RolePerson, notices.Paper,
				map[string]string{"channel": tt.channel, "actor_id": id(tt.actor)})
			n.Lang = tt.lang
			m, err := w.Write(t.Context(), n)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !slices.Contains(m.Lines, s) {
					t.Errorf("the letter lacks %q: %q", s, m.Lines)
				}
			}
			text := strings.Join(append([]string{m.Subject, m.Short}, m.Lines...), "\n")
			for _, s := range tt.not {
				if strings.Contains(text, s) {
					t.Errorf("the letter says %q: %q", s, text)
				}
			}
			plain(t, m)
		})
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"email", "jeanne.lefevre@example.fr"}: "j•••@example.fr",
		{"email", "j@example.fr"}:              "j•••@example.fr",
		{"email", "not an address"}:            "",
		{"email", "@example.fr"}:               "",
		{"sms", "+33612345678"}:                "06 •• •• •• 78",
		{"sms", "06 12 34 56 78"}:              "06 •• •• •• 78",
		{"sms", "+32470123456"}:                "+32 ••• 56",
		{"sms", "12"}:                          "",
		{"paper", "06 12 34 56 78"}:            "",
	} {
		if got := words.Mask(notices.Channel(in[0]), in[1]); got != want {
			t.Errorf("Mask(%s, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
