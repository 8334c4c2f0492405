package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

// events records what was journaled, for the assertions.
type events struct{ got []mandates.Event }

func (e *events) Emit(_ context.Context, ev mandates.Event) error {
	e.got = append(e.got, ev)
	return nil
}

func (e *events) types() []mandates.EventType {
	var out []mandates.EventType
	for _, ev := range e.got {
		out = append(out, ev.Type)
	}
	return out
}

type deskWorld struct {
	t     *testing.T
	ctx   context.Context
	st    *sqlite.Store
	ev    *events
	box   *keyring.SecretBox
	now   time.Time
	svc   *mandates.Service
	desk  *accounts.Desk
	act   *accounts.Activation
	op    mandates.Actor
	aidee mandates.Actor // an aidant with their second factor
}

func newDeskWorld(t *testing.T) *deskWorld {
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	box, err := keyring.NewSecretBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	w := &deskWorld{t: t, ctx: ctx, st: st, ev: &events{}, box: box, now: time.Date(2027, 3, 3, 9, 30, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.svc = mandates.NewService(st, w.ev, mandates.ServiceConfig{Now: clock})
	codes := authn.NewAccountCodes(st, st, authn.CodeLimits{PerAddress: 3}, clock)
	cn := &notices.CodeNotices{Store: st, Reader: st, Sealer: box, Now: clock}
	w.desk = &accounts.Desk{Service: w.svc, Tx: st, Events: w.ev, Codes: codes, Notices: cn, Names: st, Persons: st}
	auth := authn.NewAuthenticator(st, st, authn.LoginLimits{}, clock, mandatestest.Discard{}, st)
	w.act = &accounts.Activation{Service: w.svc, Tx: st, Events: w.ev, Codes: codes, Notices: cn, Auth: auth, Persons: st, Names: st, Attempts: st, Links: st, Now: clock}
	w.op = mandates.Actor{PersonID: w.person("Odile", "Opératrice")}
	if err := st.GrantRole(ctx, w.op.PersonID, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *deskWorld) person(given, family string) string {
	w.t.Helper()
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: given, FamilyName: family, BirthDate: mandates.Date(1960, 1, 2)}
	if err := w.st.CreatePerson(w.ctx, p); err != nil {
		w.t.Fatal(err)
	}
	return p.ID
}

func rose() mandates.AccountInput {
	return mandates.AccountInput{IdentityChecked: true, Person: mandates.Person{GivenNames: "Rose Marie", FamilyName: "Durand-Lefèvre",
		BirthDate: mandates.Date(1944, 5, 2), BirthPlace: mandates.Place{Code: "44109", Label: "Nantes"}, Gender: mandates.GenderFemale,
		Address: mandates.Address{Street: "3 rue des Lilas", PostalCode: "44000", Locality: "Nantes"}}}
}

// letter is the person's one pending letter and the code it carries.
func (w *deskWorld) letters(personID string) []notices.Notice {
	w.t.Helper()
	list, err := w.st.NoticesOf(w.ctx, personID, 10)
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

func (w *deskWorld) code(n notices.Notice) string {
	w.t.Helper()
	code, until, err := notices.OpenCode(w.box, n)
	if err != nil {
		w.t.Fatal(err)
	}
	if want := w.now.Add(accounts.ActivationTTL); !until.Equal(want) {
		w.t.Errorf("the code works until %v, want %v (30 days)", until, want)
	}
	return code
}

func TestAnAccountOpenedAtADeskHasItsLetterAndALoginName(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.LoginName) != len("rose.durand-lefevre.1234") || o.LoginName[:20] != "rose.durand-lefevre." {
		t.Errorf("login name %q; want rose.durand-lefevre and four digits", o.LoginName)
	}
	if id, err := w.st.PersonIDByLoginName(w.ctx, o.LoginName); err != nil || id != o.Person.ID {
		t.Errorf("the login name finds %q, %v", id, err)
	}
	letters := w.letters(o.Person.ID)
	if len(letters) != 1 || letters[0].Kind != mandates.EventActivationSent || letters[0].Channel != notices.Paper || letters[0].ID != o.Letter.ID {
		t.Fatalf("letters %+v; want one activation letter on paper", letters)
	}
	w.code(letters[0])
	if got := w.ev.types(); !slices.Equal(got, []mandates.EventType{mandates.EventAccountOpened, mandates.EventActivationSent}) {
		t.Errorf("events %v; want the opening and the letter", got)
	}
	sent := w.ev.got[1]
	if sent.PersonID != o.Person.ID || sent.ActorID != w.op.PersonID || sent.Detail["notice"] != o.Letter.ID || sent.Detail["channel"] != "paper" {
		t.Errorf("activation_sent %+v; want the operator, the notice and its channel", sent)
	}
	for k, v := range sent.Detail {
		if v == w.code(letters[0]) {
			t.Errorf("the journal holds the code in %s", k)
		}
	}
}

func TestARefusedOpeningLeavesNoLetter(t *testing.T) {
	w := newDeskWorld(t)
	if _, err := w.desk.Open(w.ctx, w.op, rose()); err != nil {
		t.Fatal(err)
	}
	nobody := mandates.Actor{PersonID: w.person("Paul", "Passant")}
	var same *mandates.SamePersonError
	for name, try := range map[string]func() error{
		"the same person":        func() error { _, err := w.desk.Open(w.ctx, w.op, rose()); return err },
		"by someone who may not": func() error { _, err := w.desk.Open(w.ctx, nobody, rose()); return err },
	} {
		before := len(w.ev.got)
		err := try()
		if err == nil || (name == "the same person" && !errors.As(err, &same)) || (name != "the same person" && !errors.Is(err, mandates.ErrNotPermitted)) {
			t.Errorf("%s: %v", name, err)
		}
		if len(w.ev.got) != before {
			t.Errorf("%s: journaled %v", name, w.ev.types()[before:])
		}
	}
	all, _, err := w.svc.ListPersons(w.ctx, w.op, mandates.PersonQuery{Name: "durand"})
	if err != nil || len(all) != 1 {
		t.Errorf("persons named Durand: %d, %v; want 1", len(all), err)
	}
}

func TestThePersonActivatesTheirAccountWithTheCode(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	code := w.code(w.letters(o.Person.ID)[0])
	// A mistake in the password costs nothing: the code still works.
	if _, err := w.act.Activate(w.ctx, nil, code, "court", "court", "10.0.0.1"); !errors.Is(err, authn.ErrPasswordTooShort) {
		t.Fatalf("a short password = %v", err)
	}
	if _, err := w.act.Activate(w.ctx, nil, "AAAA-BBBB-CCCC", "un bon mot de passe", "un bon mot de passe", "10.0.0.1"); !errors.Is(err, authn.ErrBadCode) {
		t.Fatalf("a wrong code = %v, want ErrBadCode", err)
	}
	a, err := w.act.Activate(w.ctx, nil, code, "un bon mot de passe", "un bon mot de passe", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Person.ID != o.Person.ID || a.LoginName != o.LoginName {
		t.Errorf("activated %s with %q; want Rose and her login name", a.Person.ID, a.LoginName)
	}
	if ok, err := authn.VerifyPassword(a.Person.PasswordHash, "un bon mot de passe"); !ok || err != nil {
		t.Errorf("the password was not set: %v", err)
	}
	last := w.ev.got[len(w.ev.got)-1]
	if last.Type != mandates.EventAccountActivated || last.ActorID != o.Person.ID || last.PersonID != o.Person.ID {
		t.Errorf("event %+v; want account.activated by Rose", last)
	}
	if _, err := w.act.Activate(w.ctx, nil, code, "un autre mot de passe", "un autre mot de passe", "10.0.0.1"); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("the code used again = %v, want ErrBadCode", err)
	}
	if _, err := w.desk.Resend(w.ctx, w.op, o.Person.ID); !errors.Is(err, accounts.ErrAlreadyActive) {
		t.Errorf("a new letter for an activated account = %v, want ErrAlreadyActive", err)
	}
}

func TestWrongCodesAreBoundedPerAddress(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	code := w.code(w.letters(o.Person.ID)[0])
	for range 3 {
		w.act.Activate(w.ctx, nil, "AAAA-BBBB-CCCC", "un bon mot de passe", "un bon mot de passe", "10.6.6.6")
	}
	if _, err := w.act.Activate(w.ctx, nil, code, "un bon mot de passe", "un bon mot de passe", "10.6.6.6"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("after 3 wrong codes = %v, want ErrTooManyAttempts", err)
	}
}

func TestAnExpiredCodeIsRefused(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	code := w.code(w.letters(o.Person.ID)[0])
	w.now = w.now.Add(accounts.ActivationTTL)
	if _, err := w.act.Activate(w.ctx, nil, code, "un bon mot de passe", "un bon mot de passe", "10.0.0.1"); !errors.Is(err, authn.ErrCodeExpired) {
		t.Errorf("a code 30 days old = %v, want ErrCodeExpired", err)
	}
}

func TestTheTutorActivatesTheAccountForThePerson(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	code := w.code(w.letters(o.Person.ID)[0])
	tutor := w.person("Théo", "Tuteur")
	stranger := mandates.Actor{PersonID: w.person("Sam", "Passant")}
	in := mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: o.Person.ID,
		Representatives: []mandates.RepresentativeInput{{PersonID: tutor, Role: mandates.RoleTuteur}},
		ValidFrom:       w.now.AddDate(0, 0, -1), ValidUntil: w.now.AddDate(1, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Nantes", Date: w.now.AddDate(0, 0, -10), Reference: "RG 27/00042"}}
	if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); err != nil {
		t.Fatal(err)
	}
	if _, err := w.act.Activate(w.ctx, &stranger, code, "un bon mot de passe", "un bon mot de passe", "10.0.0.1"); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Fatalf("someone else with the code = %v, want ErrNotPermitted", err)
	}
	a, err := w.act.Activate(w.ctx, &mandates.Actor{PersonID: tutor}, code, "un bon mot de passe", "un bon mot de passe", "10.0.0.1")
	if err != nil {
		t.Fatalf("the tutor with the code (still unused after the refusal) = %v", err)
	}
	last := w.ev.got[len(w.ev.got)-1]
	if a.Person.PasswordHash == "" || last.Type != mandates.EventAccountActivated || last.ActorID != tutor || last.PersonID != o.Person.ID || last.Detail["by"] != "tutor" {
		t.Errorf("event %+v; want account.activated by the tutor in Rose's journal", last)
	}
}

func TestANewLetterVoidsTheOldCode(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	old := w.code(w.letters(o.Person.ID)[0])
	if _, err := w.desk.Resend(w.ctx, mandates.Actor{PersonID: o.Person.ID}, o.Person.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a new letter asked by a non-operator = %v, want ErrNotFound", err)
	}
	n, err := w.desk.Resend(w.ctx, w.op, o.Person.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.letters(o.Person.ID)) != 2 {
		t.Errorf("want two letters")
	}
	if last := w.ev.got[len(w.ev.got)-1]; last.Type != mandates.EventActivationSent || last.ActorID != w.op.PersonID || last.Detail["notice"] != n.ID {
		t.Errorf("event %+v; want the new letter journaled", last)
	}
	if _, err := w.act.Activate(w.ctx, nil, old, "un bon mot de passe", "un bon mot de passe", "10.0.0.1"); !errors.Is(err, authn.ErrBadCode) {
		t.Errorf("the old code = %v, want ErrBadCode", err)
	}
	if _, err := w.act.Activate(w.ctx, nil, w.code(n), "un bon mot de passe", "un bon mot de passe", "10.0.0.1"); err != nil {
		t.Errorf("the new code = %v", err)
	}
}

func TestAskingForACodeSaysNothingOfTheAccount(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	activated, err := w.desk.Open(w.ctx, w.op, func() mandates.AccountInput {
		in := rose()
		in.Person.GivenNames = "Paul"
		in.Person.Gender = "male"
		return in
	}())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.act.Activate(w.ctx, nil, w.code(w.letters(activated.Person.ID)[0]), "un bon mot de passe", "un bon mot de passe", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"nobody.1234", "nobody@example.fr", "", activated.LoginName} {
		if err := w.act.AskAgain(w.ctx, login, "10.0.0.2"); err != nil {
			t.Errorf("AskAgain(%q) = %v, want the same nil", login, err)
		}
	}
	if n := len(w.letters(activated.Person.ID)); n != 1 {
		t.Errorf("the activated account has %d letters, want only its first", n)
	}
	if err := w.act.AskAgain(w.ctx, " "+o.LoginName, "10.0.0.3"); err != nil {
		t.Fatal(err)
	}
	if err := w.act.AskAgain(w.ctx, o.LoginName, "10.0.0.3"); err != nil {
		t.Fatal(err)
	}
	if n := len(w.letters(o.Person.ID)); n != 2 {
		t.Errorf("Rose has %d letters; want one new letter, once a day", n)
	}
	if last := w.ev.got[len(w.ev.got)-1]; last.Type != mandates.EventActivationSent || last.ActorID != "" || last.Detail["by"] != "person" {
		t.Errorf("event %+v; want the letter the person asked for", last)
	}
	for range 3 {
		w.act.AskAgain(w.ctx, "nobody.1234", "10.0.0.3")
	}
	if err := w.act.AskAgain(w.ctx, "nobody.1234", "10.0.0.3"); !errors.Is(err, authn.ErrTooManyAttempts) {
		t.Errorf("a sixth request in an hour = %v, want ErrTooManyAttempts", err)
	}
}

// An activation letter found after the account got in another way (a
// reset, a FranceConnect link) takes nothing over: the code is spent and
// refused, the password kept.
func TestAnOldActivationLetterTakesNoActiveAccountOver(t *testing.T) {
	for _, how := range []string{"a password set by a reset", "a FranceConnect link"} {
		t.Run(how, func(t *testing.T) {
			w := newDeskWorld(t)
			o, err := w.desk.Open(w.ctx, w.op, rose())
			if err != nil {
				t.Fatal(err)
			}
			code := w.code(w.letters(o.Person.ID)[0])
			if how == "a password set by a reset" {
				if _, err := w.st.UpdatePerson(w.ctx, o.Person.ID, func(p *mandates.Person) error {
					p.PasswordHash = authn.HashPassword("le mot de passe de Rose")
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			} else if err := w.st.SaveUpstreamLink(w.ctx, authn.UpstreamLink{Provider: authn.UpstreamFranceConnect, Subject: "fc-rose",
				PersonID: o.Person.ID, LinkedAt: w.now}); err != nil {
				t.Fatal(err)
			}
			before, err := w.st.Person(w.ctx, o.Person.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.act.Activate(w.ctx, nil, code, "le mot de passe du voleur", "le mot de passe du voleur", "10.0.0.9"); !errors.Is(err, accounts.ErrAlreadyActive) {
				t.Fatalf("the old letter's code = %v, want ErrAlreadyActive", err)
			}
			after, err := w.st.Person(w.ctx, o.Person.ID)
			if err != nil || after.PasswordHash != before.PasswordHash {
				t.Errorf("the password changed (%v)", err)
			}
			if _, err := w.act.Activate(w.ctx, nil, code, "le mot de passe du voleur", "le mot de passe du voleur", "10.0.0.9"); !errors.Is(err, authn.ErrBadCode) {
				t.Errorf("the same code again = %v, want ErrBadCode: the refused code is spent", err)
			}
		})
	}
}

// The person signed in (through FranceConnect, say) types their own code:
// they activate their account as themselves, not as their own tutor.
func TestThePersonSignedInUsesTheirOwnCode(t *testing.T) {
	w := newDeskWorld(t)
	o, err := w.desk.Open(w.ctx, w.op, rose())
	if err != nil {
		t.Fatal(err)
	}
	code := w.code(w.letters(o.Person.ID)[0])
	self := mandates.Actor{PersonID: o.Person.ID}
	if _, err := w.act.Activate(w.ctx, &self, code, "un bon mot de passe", "un bon mot de passe", "10.0.0.1"); err != nil {
		t.Fatalf("Rose signed in, with her own code: %v", err)
	}
	last := w.ev.got[len(w.ev.got)-1]
	if last.Type != mandates.EventAccountActivated || last.ActorID != o.Person.ID || last.Detail["by"] != "" {
		t.Errorf("event %+v; want account.activated by Rose herself", last)
	}
}
