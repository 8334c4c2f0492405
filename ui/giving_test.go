package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/ui"
)

// givingWorld is the cast with genders known (Jeanne and Marie, her
// tutor, are women; Sophie, the aidant, too), and Paul, under curatelle
// renforcée, whose curator is Lucie.
type givingWorld struct {
	app         *oidcApp
	c           *cast
	paul, lucie mandates.Person
}

func withGender(t *testing.T, app *oidcApp, p *mandates.Person, g mandates.Gender) {
	t.Helper()
	got, err := app.store.UpdatePerson(t.Context(), p.ID, func(q *mandates.Person) error { q.Gender = g; return nil })
	if err != nil {
		t.Fatal(err)
	}
	*p = got
}

func newGivingWorld(t *testing.T) *givingWorld {
	t.Helper()
	return givingWorldOn(t, newOIDCApp(t))
}

// givingWorldOn is newGivingWorld on an app of one's own (one built with
// another policy, say).
func givingWorldOn(t *testing.T, app *oidcApp) *givingWorld {
	t.Helper()
	c := newCast(t, app)
	w := &givingWorld{app: app, c: c,
		paul:  newPerson(t, app, "Paul", "Durand", "paul.durand@example.fr", "06 00 00 00 78"),
		lucie: newPerson(t, app, "Lucie", "Moreau", "lucie.moreau@example.fr", "")}
	for p, g := range map[*mandates.Person]mandates.Gender{&c.jeanne: mandates.GenderFemale, &c.marie: mandates.GenderFemale,
		&c.aidant: mandates.GenderFemale, &w.paul: mandates.GenderMale, &w.lucie: mandates.GenderFemale, &c.ahmed: mandates.GenderMale} {
		withGender(t, app, p, g)
	}
	now := time.Now().UTC()
	if _, err := app.service.RegisterMeasure(t.Context(), mandates.Actor{PersonID: c.operator.ID}, mandates.MeasureInput{Kind: mandates.CuratelleRenforcee,
		PersonID: w.paul.ID, Representatives: []mandates.RepresentativeInput{{PersonID: w.lucie.ID, Role: mandates.RoleCurateur}},
		ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00043"}}); err != nil {
		t.Fatal(err)
	}
	return w
}

// last is the newest entry of type typ in the person's journal.
func (w *givingWorld) last(t *testing.T, person mandates.Person, typ mandates.EventType) journal.Stored {
	t.Helper()
	es := ofType(chainOf(t, w.app, person.ID), typ)
	if len(es) == 0 {
		t.Fatalf("%s's journal holds no %s", person.GivenNames, typ)
	}
	return es[len(es)-1]
}

func (w *givingWorld) sentence(t *testing.T, reader mandates.Person, owner, lang string, e journal.Stored) string {
	t.Helper()
	return ui.JournalSentence(t.Context(), w.app.server, reader.ID, owner, lang, e)
}

// TestConsentSentencesSayWhoConsentedAndHow: the journal says who gave
// their agreement to a mandate and how, in French and English, to the
// person (« vous ») and to others, with French contractions (« au mandat
// d’aidant »); an aidant who witnessed a consent is never said to have
// consented.
func TestConsentSentencesSayWhoConsentedAndHow(t *testing.T) {
	w := newGivingWorld(t)
	c, svc, ctx := w.c, w.app.service, t.Context()
	aidant := aidantActor(c)

	byLogin := startMandate(t, w.app, c, c.ahmed, "social")
	if _, err := svc.ConfirmByLogin(ctx, aidant, byLogin.ID, c.ahmed.ID); err != nil {
		t.Fatal(err)
	}
	login := w.last(t, c.ahmed, mandates.EventConsentGiven)
	if _, err := svc.Withdraw(ctx, mandates.Actor{PersonID: c.ahmed.ID}, byLogin.ID); err != nil {
		t.Fatal(err)
	}
	byCode := startMandate(t, w.app, c, c.ahmed, "social")
	if err := svc.SendConsentCode(ctx, aidant, byCode.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CheckConsentCode(ctx, aidant, byCode.ID, c.codes.last[c.ahmed.ID]); err != nil {
		t.Fatal(err)
	}
	code := w.last(t, c.ahmed, mandates.EventConsentGiven)
	if _, err := svc.Withdraw(ctx, mandates.Actor{PersonID: c.ahmed.ID}, byCode.ID); err != nil {
		t.Fatal(err)
	}
	activeMandate(t, w.app, c, c.ahmed, "social")
	paper := w.last(t, c.ahmed, mandates.EventConsentGiven)

	// Jeanne is under tutelle: Marie gives the mandate for her.
	forJeanne := startMandate(t, w.app, c, c.jeanne, "social")
	if _, err := svc.AnswerForPerson(ctx, mandates.Actor{PersonID: c.marie.ID}, forJeanne.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	tutor := w.last(t, c.jeanne, mandates.EventConsentGiven)

	// An entry written before consents named who gave them: the aidant
	// was its actor.
	old := login
	old.ActorID = c.aidant.ID
	old.Detail = &journal.Detail{Salt: []byte("0123456789abcdef"), Fields: map[string]string{"method": "in_person_login"}}

	ahmed, jeanne := c.ahmed.ID, c.jeanne.ID
	cases := []struct {
		name   string
		reader mandates.Person
		owner  string
		e      journal.Stored
		fr, en string
	}{
		{"Ahmed reads that he consented with his login", c.ahmed, ahmed, login,
			"vous avez donné votre accord au mandat d’aidant, en vous connectant avec votre compte.",
			"you agreed to the aidant mandate, by logging in with your account."},
		{"the aidant reads that Ahmed consented with his login", c.aidant, "", login,
			"Ahmed Benali a donné son accord au mandat d’aidant, en se connectant avec son compte.",
			"Ahmed Benali agreed to the aidant mandate, by logging in with their account."},
		{"a consent by a code names the end of the phone number", c.ahmed, ahmed, code,
			"vous avez donné votre accord au mandat d’aidant, par un code envoyé par SMS au numéro qui finit par 05.",
			"you agreed to the aidant mandate, with a code sent by text message to the number ending in 05."},
		{"a consent on paper names the aidant before whom it was signed", c.ahmed, ahmed, paper,
			"vous avez donné votre accord au mandat d’aidant, en signant une attestation sur papier devant Sophie Bernard.",
			"you agreed to the aidant mandate, by signing a paper form in front of Sophie Bernard."},
		{"the aidant reads she was the witness", c.aidant, "", paper,
			"Ahmed Benali a donné son accord au mandat d’aidant, en signant une attestation sur papier devant vous.",
			"Ahmed Benali agreed to the aidant mandate, by signing a paper form in front of you."},
		{"an entry of before still says the person consented", c.ahmed, ahmed, old,
			"vous avez donné votre accord au mandat d’aidant, en vous connectant avec votre compte.",
			"you agreed to the aidant mandate, by logging in with your account."},
		{"others read an entry of before the same way", c.admin, "", old,
			"Ahmed Benali a donné son accord au mandat d’aidant, en se connectant avec son compte.",
			"Ahmed Benali agreed to the aidant mandate, by logging in with their account."},
		{"Jeanne reads that her tutor gave it for her", c.jeanne, jeanne, tutor,
			"Marie Martin, votre tutrice, a donné l’accord au mandat d’aidant pour vous.",
			"Marie Martin, your guardian, agreed to the aidant mandate on your behalf."},
		{"Marie reads that she gave it", c.marie, jeanne, tutor,
			"vous avez donné l’accord au mandat d’aidant pour Jeanne Petit.",
			"you agreed to the aidant mandate on behalf of Jeanne Petit."},
		{"the aidant reads that the tutor gave it", c.aidant, "", tutor,
			"Marie Martin, tutrice, a donné l’accord au mandat d’aidant pour Jeanne Petit.",
			"Marie Martin, guardian, agreed to the aidant mandate on behalf of Jeanne Petit."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string]string{"fr": tc.fr, "en": tc.en} {
				got := w.sentence(t, tc.reader, tc.owner, lang, tc.e)
				if !strings.Contains(got, want) {
					t.Errorf("%s: %q\ndoes not say %q", lang, got, want)
				}
				for _, bad := range []string{"Sophie Bernard a donné son accord", "Sophie Bernard agreed", "à le ", "{{", "<no value>", "journal."} {
					if strings.Contains(got, bad) {
						t.Errorf("%s: %q says %q", lang, got, bad)
					}
				}
			}
		})
	}
}

// TestAgreementsAndRefusalsReadAsSentences: the curator's agreement, the
// tutor's refusal, and the requests Relais refused (the person's own word
// under tutelle, a second mandate) say who, what and why.
func TestAgreementsAndRefusalsReadAsSentences(t *testing.T) {
	w := newGivingWorld(t)
	c, svc, ctx := w.c, w.app.service, t.Context()
	aidant := aidantActor(c)
	marie, jeanne := mandates.Actor{PersonID: c.marie.ID}, mandates.Actor{PersonID: c.jeanne.ID}

	// Paul consents on paper; Lucie, his curator, agrees.
	forPaul := activeMandate(t, w.app, c, w.paul, "social")
	if got := stored(t, w.app, forPaul.ID); got.Waits() != mandates.WaitingRepresentative {
		t.Fatalf("Paul's mandate waits for %q, want his curator", got.Waits())
	}
	if _, err := svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.lucie.ID}, forPaul.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	agreed := w.last(t, w.paul, mandates.EventAgreed)

	// The aidant tries Jeanne's own word; Relais refuses it.
	forJeanne := startMandate(t, w.app, c, c.jeanne, "social")
	if _, err := svc.ConfirmByLogin(ctx, aidant, forJeanne.ID, c.jeanne.ID); err == nil {
		t.Fatal("Jeanne's own consent was taken under tutelle")
	}
	gives := w.last(t, c.jeanne, mandates.EventRefused)
	// A second mandate with Jeanne: refused, one is waiting.
	if _, err := svc.StartMandate(ctx, aidant, mandates.MandateInput{OrganisationID: c.org.ID, PersonID: c.jeanne.ID,
		Areas: []mandates.Area{"papiers"}, Duration: mandates.OneMonth}); err == nil {
		t.Fatal("a second mandate was made")
	}
	duplicate := w.last(t, c.jeanne, mandates.EventRefused)
	// Marie refuses the mandate.
	if _, err := svc.AnswerForPerson(ctx, marie, forJeanne.ID, 0, false); err != nil {
		t.Fatal(err)
	}
	declined := w.last(t, c.jeanne, mandates.EventDeclined)
	// Jeanne gives a proxy herself: refused, her tutor gives it.
	if _, err := svc.GiveProxy(ctx, jeanne, mandates.ProxyInput{HolderID: c.karim.ID, Areas: []mandates.Area{"social"},
		Granted: []mandates.Action{mandates.Consult}, Duration: mandates.OneMonth}); err == nil {
		t.Fatal("Jeanne gave a proxy under tutelle")
	}
	proxy := w.last(t, c.jeanne, mandates.EventRefused)

	paul, jid := w.paul.ID, c.jeanne.ID
	cases := []struct {
		name   string
		reader mandates.Person
		owner  string
		e      journal.Stored
		fr, en string
	}{
		{"Paul reads that his curator agreed", w.paul, paul, agreed,
			"Lucie Moreau, votre curatrice, a donné son accord au mandat d’aidant.",
			"Lucie Moreau, your curator, agreed to the aidant mandate."},
		{"the aidant reads that the curator agreed", c.aidant, "", agreed,
			"Lucie Moreau, curatrice, a donné son accord au mandat d’aidant de Paul Durand.",
			"Lucie Moreau, curator, agreed to the aidant mandate of Paul Durand."},
		{"Lucie reads that she agreed", w.lucie, paul, agreed,
			"vous avez donné votre accord au mandat d’aidant de Paul Durand.",
			"you agreed to the aidant mandate of Paul Durand."},
		{"Jeanne reads why her own word was refused", c.jeanne, jid, gives,
			"Sophie Bernard a demandé votre accord pour le mandat d’aidant de France Services Lyon 8e. Relais a refusé : Marie Martin, votre tutrice, donne ce mandat pour vous.",
			"Sophie Bernard asked for your agreement to the aidant mandate of France Services Lyon 8e. Relais refused: Marie Martin, your guardian, gives this mandate on your behalf."},
		{"Marie reads that she gives it", c.marie, jid, gives,
			"Relais a refusé : vous donnez ce mandat pour Jeanne Petit.",
			"Relais refused: you give this mandate on behalf of Jeanne Petit."},
		{"Jeanne reads that a second mandate was refused", c.jeanne, jid, duplicate,
			"Sophie Bernard a demandé un nouveau mandat d’aidant de France Services Lyon 8e pour vous. Relais ne l’a pas créé : ce mandat existe déjà.",
			"Sophie Bernard asked for a new aidant mandate of France Services Lyon 8e for you. Relais did not make it: this mandate already exists."},
		{"the aidant reads her refused second mandate", c.aidant, "", duplicate,
			"vous avez demandé un nouveau mandat d’aidant de France Services Lyon 8e pour Jeanne Petit. Relais ne l’a pas créé : ce mandat existe déjà.",
			"you asked for a new aidant mandate of France Services Lyon 8e for Jeanne Petit. Relais did not make it: this mandate already exists."},
		{"Jeanne reads that her tutor refused the mandate", c.jeanne, jid, declined,
			"Marie Martin, votre tutrice, a refusé le mandat d’aidant de France Services Lyon 8e pour vous.",
			"Marie Martin, your guardian, refused the aidant mandate of France Services Lyon 8e on your behalf."},
		{"Marie reads that she refused it", c.marie, jid, declined,
			"vous avez refusé le mandat d’aidant de France Services Lyon 8e pour Jeanne Petit.",
			"you refused the aidant mandate of France Services Lyon 8e on behalf of Jeanne Petit."},
		{"Jeanne reads why her proxy was refused", c.jeanne, jid, proxy,
			"vous avez voulu donner une procuration. Relais a refusé : Marie Martin, votre tutrice, donne les procurations pour vous.",
			"you wanted to give a proxy. Relais refused: Marie Martin, your guardian, gives proxies on your behalf."},
		{"Marie reads that Jeanne wanted to give a proxy", c.marie, jid, proxy,
			"Jeanne Petit a voulu donner une procuration. Relais a refusé : vous donnez les procurations pour Jeanne Petit.",
			"Jeanne Petit wanted to give a proxy. Relais refused: you give proxies on behalf of Jeanne Petit."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string]string{"fr": tc.fr, "en": tc.en} {
				got := w.sentence(t, tc.reader, tc.owner, lang, tc.e)
				if !strings.Contains(got, want) {
					t.Errorf("%s: %q\ndoes not say %q", lang, got, want)
				}
				for _, bad := range []string{"à le ", "de le ", "{{", "<no value>", "journal.", "représentation"} {
					if strings.Contains(got, bad) {
						t.Errorf("%s: %q says %q", lang, got, bad)
					}
				}
			}
		})
	}

	// Every entry of these journals reads without « à le » or « de le ».
	for _, p := range []mandates.Person{c.jeanne, w.paul} {
		for _, e := range chainOf(t, w.app, p.ID) {
			for _, reader := range []mandates.Person{p, c.aidant} {
				if got := w.sentence(t, reader, p.ID, "fr", e); strings.Contains(got, "à le ") || strings.Contains(got, "de le ") || strings.Contains(got, "journal.event") {
					t.Errorf("%s: %q", e.Type, got)
				}
			}
		}
	}
}
