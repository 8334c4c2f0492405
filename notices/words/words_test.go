package words_test

import (
	"context"
	"errors"
	"html"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
	"github.com/relais-fr/relais/ui/plainwords"
)

// The events issue 15 adds, fixed by the session's brief: their types are
// added to mandates by the helpers who emit them, so they are spelled here.
const (
	endingSoon       mandates.EventType = "representation.ending_soon"
	firstAct         mandates.EventType = "site.first_act"
	channelConfirmed mandates.EventType = "notice.channel_confirmed"
)

// notified is every event that causes notices: those of notices.Rules and
// the ones the brief adds.
func notified() []mandates.EventType {
	var out []mandates.EventType
	for _, e := range mandates.EventTypes {
		if notices.Notified(e) {
			out = append(out, e)
		}
	}
	for _, e := range []mandates.EventType{endingSoon, firstAct, mandates.EventSecondFactorEnrolled, mandates.EventSecondFactorDisabled, channelConfirmed} {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// variant is one way an event can reach a recipient in the fixture.
type variant struct {
	name      string
	person    string // whose notice
	recipient string
	role      notices.Role
	data      map[string]string
}

// variants lists, for event e, every recipient role and representation
// the rules can give it, with the actors that change the words.
func variants(e mandates.EventType) []variant {
	switch {
	case e == mandates.EventSecondFactorEnrolled || e == mandates.EventSecondFactorDisabled ||
		e == mandates.EventPasswordReset || e == mandates.EventSecondFactorReset:
		return []variant{
			{"by the person", "jeanne", "jeanne", notices.RolePerson, map[string]string{"actor_id": id("jeanne")}},
			{"by someone else", "jeanne", "jeanne", notices.RolePerson, map[string]string{"actor_id": id("marie")}},
			{"in English", "anne", "anne", notices.RolePerson, map[string]string{"actor_id": id("anne")}},
		}
	case e == channelConfirmed:
		return []variant{
			{"email", "jeanne", "jeanne", notices.RolePerson, map[string]string{"channel": "email"}},
			{"sms", "jeanne", "jeanne", notices.RolePerson, map[string]string{"channel": "sms"}},
			{"in English", "anne", "anne", notices.RolePerson, map[string]string{"channel": "email"}},
		}
	case strings.HasPrefix(string(e), "cosignature."):
		person := map[string]string{"representation_id": id("tutelle"), "cosignature_id": id("cosign-person")}
		curator := map[string]string{"representation_id": id("curatelle"), "cosignature_id": id("cosign-curator")}
		return []variant{
			{"the person must agree", "jeanne", "jeanne", notices.RolePerson, with(person, "actor_id", id("marie"))},
			{"the person agreed", "jeanne", "jeanne", notices.RolePerson, with(person, "actor_id", id("jeanne"))},
			{"the person must agree, to the holder", "jeanne", "marie", notices.RoleAgreement, with(person, "actor_id", id("jeanne"))},
			{"the curator must agree, to the person", "paul", "paul", notices.RolePerson, with(curator, "actor_id", id("paul"))},
			{"the curator answered, to the person", "paul", "paul", notices.RolePerson, with(curator, "actor_id", id("sophie"))},
			{"the curator must agree", "paul", "sophie", notices.RoleAgreement, with(curator, "actor_id", id("paul"))},
		}
	}
	measure := map[string]string{"representation_id": id("tutelle"), "actor_id": id("aidant"), "status": "active", "ends_on": "2027-04-01", "area": "argent"}
	mandate := map[string]string{"representation_id": id("mandate"), "actor_id": id("aidant"), "organisation_id": id("fs"), "status": "pending_consent",
		"area": "logement", "site_name": "impots.gouv.fr", "ends_on": "2028-03-03"}
	proxy := map[string]string{"representation_id": id("proxy"), "actor_id": id("jeanne"), "status": "active", "ends_on": "2027-09-03"}
	mpf := map[string]string{"representation_id": id("mpf"), "actor_id": id("aidant"), "status": "active", "ends_on": "2027-04-01"}
	return []variant{
		{"measure", "jeanne", "jeanne", notices.RolePerson, measure},
		{"measure, to the representative", "jeanne", "marie", notices.RoleRepresentative, measure},
		{"measure held by an organisation's member", "paul", "sophie", notices.RoleRepresentative, with(measure, "representation_id", id("curatelle"))},
		{"mandate asked", "jeanne", "jeanne", notices.RolePerson, mandate},
		{"mandate in force", "jeanne", "jeanne", notices.RolePerson, with(mandate, "status", "active")},
		{"mandate, by the person", "jeanne", "jeanne", notices.RolePerson, with(with(mandate, "actor_id", id("jeanne")), "organisation_id", "")},
		{"mandate, to the organisation", "jeanne", "fs", notices.RoleRepresentative, with(with(mandate, "actor_id", id("jeanne")), "organisation_id", "")},
		{"mandate, to the measure's representative", "jeanne", "marie", notices.RoleMeasure, mandate},
		{"mandate asked under a curatelle renforcée", "paul", "paul", notices.RolePerson, with(mandate, "representation_id", id("mandate-paul"))},
		{"mandate asked under a curatelle renforcée, to the curator", "paul", "sophie", notices.RoleMeasure, with(mandate, "representation_id", id("mandate-paul"))},
		{"mandate, answered by the measure's representative", "jeanne", "jeanne", notices.RolePerson, with(with(mandate, "actor_id", id("marie")), "organisation_id", "")},
		{"proxy, by the person", "jeanne", "jeanne", notices.RolePerson, proxy},
		{"proxy, to the trusted person", "jeanne", "karim", notices.RoleRepresentative, proxy},
		{"proxy, by the trusted person", "jeanne", "jeanne", notices.RolePerson, with(proxy, "actor_id", id("karim"))},
		{"proxy asked, by the person", "jeanne", "karim", notices.RoleRepresentative, with(proxy, "status", "pending_consent")},
		{"future protection mandate, in English", "anne", "anne", notices.RolePerson, mpf},
		{"future protection mandate, to the representative, in English", "anne", "tom", notices.RoleRepresentative, mpf},
	}
}

func with(d map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range d {
		out[a] = b
	}
	if v == "" {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// page is a message as the plain-words check reads it: the subject as the
// heading, one paragraph per line.
func page(m notices.Message) string {
	var b strings.Builder
	b.WriteString(`<html lang="` + m.Lang + `"><body><h1>` + html.EscapeString(m.Subject) + `</h1>`)
	for _, l := range m.Lines {
		b.WriteString("<p>" + html.EscapeString(l) + "</p>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

// plain fails t for every breach of the plain-words rules in m's subject
// and lines (PLAIN-LANGUAGE.md: at most 20 words a sentence, an average
// under 15, the listed words explained at once).
func plain(t *testing.T, m notices.Message) {
	t.Helper()
	rules, err := plainwords.For(m.Lang)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plainwords.Read(strings.NewReader(page(m)))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rules.Check(p) {
		t.Errorf("%s", b)
	}
}

// TestEveryNotifiedEventHasWordsForEveryRecipient writes every notified
// event for every role and kind of representation the rules can give it,
// in French and in English, on paper, email and SMS: each has a subject, lines in
// plain words, an SMS of at most 160 characters, and no template left
// unfilled.
func TestEveryNotifiedEventHasWordsForEveryRecipient(t *testing.T) {
	w := writer(t, fixture())
	for _, e := range notified() {
		for _, v := range variants(e) {
			for _, c := range []notices.Channel{notices.Paper, notices.Email, notices.SMS} {
				for _, lang := range words.Languages {
					t.Run(string(e)+"/"+v.name+"/"+string(c)+"/"+lang, func(t *testing.T) {
						n := notice(e, v.person, v.recipient, v.role, c, v.data)
						n.Lang = lang
						m, err := w.Write(t.Context(), n)
						if v.recipient == "fs" && c != notices.Paper {
							var p *notices.PermanentError
							if !errors.As(err, &p) || p.Code == "" {
								t.Fatalf("an organisation has no email or phone: want a permanent error, got %v", err)
							}
							return
						}
						if err != nil {
							t.Fatalf("Write: %v", err)
						}
						if m.Subject == "" || len(m.Lines) == 0 || m.Short == "" {
							t.Fatalf("empty words: %+v", m)
						}
						all := append([]string{m.Subject, m.Short}, m.Lines...)
						for _, s := range all {
							if strings.Contains(s, "{{") || strings.Contains(s, "<no value>") || strings.Contains(s, "  ") || strings.Contains(s, " .") {
								t.Errorf("unfilled or badly joined words: %q", s)
							}
						}
						if n := utf8.RuneCountInString(m.Short); n > 160 {
							t.Errorf("the SMS has %d characters, at most 160: %q", n, m.Short)
						}
						for _, private := range []string{"1941", "rue", "Résidence", "44000", "44100", "@"} {
							if strings.Contains(m.Short, private) {
								t.Errorf("the SMS holds %q, more than it needs: %q", private, m.Short)
							}
						}
						if (c == notices.Paper) == slices.ContainsFunc(m.Lines, func(l string) bool {
							return strings.Contains(l, "France Services Nantes") && strings.Contains(l, "02 40 41 42 43")
						}) {
							t.Errorf("a letter prints its contact itself, an email or SMS says it: %q", m.Lines)
						}
						if m.ID != n.ID || m.Reference != words.Reference(n.ID) || m.Lang != n.Lang || !m.Date.Equal(day) {
							t.Errorf("the message is not the notice's: %+v", m)
						}
						if c == notices.Paper {
							plain(t, m)
						}
					})
				}
			}
		}
	}
}

// TestTheRecipientIsAddressedAsYouAndThePersonByName: « vous » to the
// person about themselves, the person's name to the others, never
// « la personne ».
func TestTheRecipientIsAddressedAsYouAndThePersonByName(t *testing.T) {
	w := writer(t, fixture())
	for _, e := range notified() {
		for _, v := range variants(e) {
			n := notice(e, v.person, v.recipient, v.role, notices.Paper, v.data)
			m, err := w.Write(t.Context(), n)
			if err != nil {
				t.Fatalf("%s %s: %v", e, v.name, err)
			}
			text := strings.ToLower(m.Subject + " " + strings.Join(m.Lines, " "))
			name := map[string]string{"jeanne": "Jeanne Lefèvre", "paul": "Paul Morel", "anne": "Anne Dupont"}[v.person]
			switch {
			case strings.Contains(text, "la personne protégée") || strings.Contains(text, "the protected person"):
				t.Errorf("%s %s: %q", e, v.name, text)
			case v.role != notices.RolePerson && !strings.Contains(m.Subject+strings.Join(m.Lines, " "), name):
				t.Errorf("%s %s: the letter to %s does not name %s: %q / %q", e, v.name, v.recipient, name, m.Subject, m.Lines)
			case v.role == notices.RolePerson && m.To.Name != name:
				t.Errorf("%s %s: the letter to the person goes to %q", e, v.name, m.To.Name)
			}
		}
	}
}

func TestShortSaysWhoAsksWhat(t *testing.T) {
	w := writer(t, fixture())
	n := notice(mandates.EventCreated, "jeanne", "jeanne", notices.RolePerson, notices.SMS,
		map[string]string{"representation_id": id("mandate"), "actor_id": id("aidant"), "organisation_id": id("fs"), "status": "pending_consent"})
	m, err := w.Write(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	if want := "France Services Nantes demande un mandat pour vos démarches : papiers, logement, 12 mois."; m.Short != want {
		t.Errorf("Short = %q, want %q", m.Short, want)
	}
	if m.To.Phone != "06 12 34 56 78" {
		t.Errorf("the SMS goes to %q", m.To.Phone)
	}
	// Nothing of the civil identity: no birth date, no address.
	for _, private := range []string{"1941", "Lilas", "44000", "Lefèvre"} {
		if strings.Contains(m.Short, private) {
			t.Errorf("the SMS holds %q: %q", private, m.Short)
		}
	}
	// Who must agree: the tutor gives it for Jeanne; under Paul's
	// curatelle renforcée, Paul then his curator.
	if !slices.Contains(m.Lines, "Marie Martin doit d’abord dire oui pour vous.") {
		t.Errorf("under the tutelle the words say %q", m.Lines)
	}
	n = notice(mandates.EventCreated, "paul", "paul", notices.RolePerson, notices.Paper,
		map[string]string{"representation_id": id("mandate-paul"), "actor_id": id("aidant"), "organisation_id": id("fs"), "status": "pending_consent"})
	if m, err = w.Write(t.Context(), n); err != nil || !slices.Contains(m.Lines, "Il faut votre accord, puis celui de Sophie Garnier.") {
		t.Errorf("under a curatelle renforcée the words say %q, %v", m.Lines, err)
	}
}

// contacts is the preferences' Contacts in the tests: the confirmed
// address differs from the account's.
type contacts map[string]notices.Contact

func (c contacts) Contact(_ context.Context, id string) (notices.Contact, error) {
	return c[id], nil
}

func TestTheEmailAndPhoneComeFromTheConfiguredContacts(t *testing.T) {
	s := fixture()
	w, err := words.New(s, words.Options{Sender: "Relais", Contact: "02 40 41 42 43",
		Contacts: contacts{id("jeanne"): {Email: "jeanne.confirmee@example.fr", Phone: "07 00 00 00 01"}}})
	if err != nil {
		t.Fatal(err)
	}
	n := notice(mandates.EventSecondFactorEnrolled, "jeanne", "jeanne", notices.RolePerson, notices.Email, nil)
	m, err := w.Write(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	if m.To.Email != "jeanne.confirmee@example.fr" || m.To.Phone != "07 00 00 00 01" {
		t.Errorf("To = %+v, want the confirmed contact", m.To)
	}
	n = notice(mandates.EventSecondFactorEnrolled, "karim", "karim", notices.RolePerson, notices.SMS, nil)
	var p *notices.PermanentError
	if _, err := w.Write(t.Context(), n); !errors.As(err, &p) || p.Code != "phone" {
		t.Errorf("an SMS to someone without a confirmed phone: want a permanent error (phone), got %v", err)
	}
}

func TestWriteRefuses(t *testing.T) {
	s := fixture()
	w := writer(t, s)
	var p *notices.PermanentError
	t.Run("a recipient who is gone can never be written to", func(t *testing.T) {
		n := notice(mandates.EventSecondFactorEnrolled, "jeanne", "jeanne", notices.RolePerson, notices.Paper, nil)
		n.RecipientID = mandates.NewID(day)
		_, err := w.Write(t.Context(), n)
		if !errors.As(err, &p) || p.Code != "recipient" || !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("want a permanent error (recipient) wrapping ErrNotFound, got %v", err)
		}
	})
	t.Run("a representation that is gone", func(t *testing.T) {
		n := notice(mandates.EventRevoked, "jeanne", "jeanne", notices.RolePerson, notices.Paper, map[string]string{"representation_id": mandates.NewID(day)})
		if _, err := w.Write(t.Context(), n); !errors.As(err, &p) || p.Code != "representation" {
			t.Errorf("want a permanent error (representation), got %v", err)
		}
	})
	t.Run("an event without words", func(t *testing.T) {
		n := notice(mandates.EventLoginSucceeded, "jeanne", "jeanne", notices.RolePerson, notices.Paper, nil)
		if _, err := w.Write(t.Context(), n); !errors.As(err, &p) || p.Code != "kind" {
			t.Errorf("want a permanent error (kind), got %v", err)
		}
	})
	t.Run("an email to someone without an address", func(t *testing.T) {
		s.persons[id("karim")] = func(p mandates.Person) mandates.Person { p.Email = ""; return p }(s.persons[id("karim")])
		n := notice(mandates.EventSecondFactorEnrolled, "karim", "karim", notices.RolePerson, notices.Email, nil)
		if _, err := w.Write(t.Context(), n); !errors.As(err, &p) || p.Code != "address" || p.Channel != notices.Email {
			t.Errorf("want a permanent error (address), got %v", err)
		}
	})
	t.Run("a store that fails for a while is tried again", func(t *testing.T) {
		broken := fixture()
		broken.fail = errors.New("connection reset")
		n := notice(mandates.EventSecondFactorEnrolled, "jeanne", "jeanne", notices.RolePerson, notices.Paper, nil)
		_, err := writer(t, broken).Write(t.Context(), n)
		if err == nil || notices.IsPermanent(err) || !errors.Is(err, broken.fail) {
			t.Errorf("want a temporary error wrapping the store's, got %v", err)
		}
	})
	t.Run("New needs a sender and a contact", func(t *testing.T) {
		for _, o := range []words.Options{{Contact: "02 40 41 42 43"}, {Sender: "Relais"}} {
			if _, err := words.New(s, o); !errors.Is(err, words.ErrOptions) {
				t.Errorf("New(%+v) = %v, want ErrOptions", o, err)
			}
		}
		if _, err := words.New(nil, words.Options{Sender: "Relais", Contact: "02"}); !errors.Is(err, words.ErrOptions) {
			t.Errorf("New without a reader = %v, want ErrOptions", err)
		}
	})
}

func TestReference(t *testing.T) {
	got := words.Reference("0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b")
	if got != "N-1C2D-3E4F-5A6B" {
		t.Errorf("Reference = %q", got)
	}
}

// TestTheConsentCodeSaysWhoAsksWhat: the SMS that carries a consent code
// says who asks for what, for how long, and the code, in one text.
func TestTheConsentCodeSaysWhoAsksWhat(t *testing.T) {
	s := fixture()
	w := writer(t, s)
	r := s.reps[id("mandate")]
	m, err := w.ConsentCode(t.Context(), s.persons[id("jeanne")], r, "123456")
	if err != nil {
		t.Fatal(err)
	}
	if want := "France Services Nantes demande un mandat pour vos démarches : papiers, logement, 12 mois. Code : 123456. Donnez-le seulement si vous êtes d'accord."; m.Short != want {
		t.Errorf("Short = %q, want %q", m.Short, want)
	}
	if m.To.Phone != "06 12 34 56 78" || !mandates.IsID(m.ID) {
		t.Errorf("To %+v, ID %q", m.To, m.ID)
	}
	r.Areas = mandates.Areas
	m, err = w.ConsentCode(t.Context(), s.persons[id("jeanne")], r, "123456")
	if err != nil {
		t.Fatal(err)
	}
	if want := "France Services Nantes demande un mandat, 12 mois. Code : 123456. Donnez-le seulement si vous êtes d'accord."; m.Short != want {
		t.Errorf("with every area, Short = %q, want the brief text %q", m.Short, want)
	}
	m, err = w.ConsentCode(t.Context(), s.persons[id("anne")], s.reps[id("mandate")], "654321")
	if err != nil {
		t.Fatal(err)
	}
	if want := "France Services Nantes asks for a mandate for your procedures: papers, housing, 12 months. Code: 654321. Give it only if you agree."; m.Short != want {
		t.Errorf("in English, Short = %q, want %q", m.Short, want)
	}
}

func TestANoticeWrittenBeforeTheContactWasConfirmedIsNotSentToIt(t *testing.T) {
	s := fixture()
	confirmed := day.Add(time.Hour)
	w, err := words.New(s, words.Options{Sender: "Relais", Contact: "02 40 41 42 43",
		Contacts: contacts{id("jeanne"): {Email: "nouvelle@example.fr", Phone: "07 00 00 00 01", Since: confirmed}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []notices.Channel{notices.Email, notices.SMS} {
		n := notice(mandates.EventSecondFactorEnrolled, "jeanne", "jeanne", notices.RolePerson, ch, nil)
		var p *notices.PermanentError
		if m, err := w.Write(t.Context(), n); !errors.As(err, &p) || p.Code != "contact_changed" || p.Channel != ch {
			t.Errorf("%s written before the contact was confirmed: %+v, %v, want a permanent error (contact_changed)", ch, m.To, err)
		}
		n.CreatedAt = confirmed
		if m, err := w.Write(t.Context(), n); err != nil || (m.To.Email != "nouvelle@example.fr" && m.To.Phone != "07 00 00 00 01") {
			t.Errorf("%s written once the contact was confirmed: %+v, %v", ch, m.To, err)
		}
	}
	n := notice(mandates.EventSecondFactorEnrolled, "jeanne", "jeanne", notices.RolePerson, notices.Paper, nil)
	if _, err := w.Write(t.Context(), n); err != nil {
		t.Errorf("a letter written before: %v", err)
	}
}
