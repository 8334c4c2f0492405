package mandates

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// aidantWorld is a world with a France Services desk acting in social and
// papiers, an aidant of it logged in with a second factor, and its
// administrator.
type aidantWorld struct {
	*memWorld
	desk   string
	aidant Actor
	admin  Actor
}

func newAidantWorld(t *testing.T, cfg ServiceConfig) *aidantWorld {
	w := newMemWorld(t, cfg)
	desk := w.org("France Services Lyon 8e", "social", "papiers")
	return &aidantWorld{memWorld: w, desk: desk,
		aidant: w.member(desk, w.person("Sophie", "Bernard"), MemberAidant, true),
		admin:  w.member(desk, w.person("Alice", "Admin"), MemberAdmin, true)}
}

func (w *aidantWorld) start(personID string, areas ...Area) Representation {
	w.t.Helper()
	r, err := w.svc.StartMandate(w.ctx, w.aidant, MandateInput{OrganisationID: w.desk, PersonID: personID, Areas: areas, Duration: SixMonths})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func TestStartingAMandate(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	r := w.start(w.jane, "social")
	if r.Kind != AidantMandate || r.Status != StatusPendingConsent || r.Waits() != WaitingPerson || r.Source.Measure != nil {
		t.Errorf("kind %s, status %s, waits %q, measure %+v; want an aidant mandate waiting for the person alone", r.Kind, r.Status, r.Waits(), r.Source.Measure)
	}
	if !slices.Contains(w.st.locked, w.jane) {
		t.Error("the person was not held while the mandate was checked and created")
	}
	if e := w.st.events[len(w.st.events)-1]; e.Type != EventCreated || e.OrganisationID != w.desk || e.ActorID != w.aidant.PersonID {
		t.Errorf("event %+v, want its creation by the aidant for the desk", e)
	}
}

func TestStartingAMandateIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(w *aidantWorld, a *Actor, in *MandateInput)
		want   error
	}{
		{"without a second factor at login", func(_ *aidantWorld, a *Actor, _ *MandateInput) { a.SecondFactor = false }, ErrSecondFactor},
		{"by someone who is not a member", func(w *aidantWorld, a *Actor, _ *MandateInput) { a.PersonID = w.person("Eve", "Extérieure") }, ErrNotPermitted},
		{"by a withdrawn member", func(w *aidantWorld, a *Actor, _ *MandateInput) {
			m := w.st.members[[2]string{w.desk, a.PersonID}]
			m.Active, m.WithdrawnAt = false, w.clock
			w.st.members[[2]string{w.desk, a.PersonID}] = m
		}, ErrNotPermitted},
		{"for a length aidants do not use", func(_ *aidantWorld, _ *Actor, in *MandateInput) { in.Duration = "2y" }, ErrInvalid},
		{"for the aidant themselves", func(_ *aidantWorld, a *Actor, in *MandateInput) { in.PersonID = a.PersonID }, ErrInvalid},
		{"in an area the organisation does not act in", func(_ *aidantWorld, _ *Actor, in *MandateInput) { in.Areas = []Area{"argent"} }, ErrInvalid},
		{"without any area", func(_ *aidantWorld, _ *Actor, in *MandateInput) { in.Areas = nil }, ErrInvalid},
		{"for an unknown person", func(w *aidantWorld, _ *Actor, in *MandateInput) { in.PersonID = NewID(w.clock) }, ErrInvalid},
		{"for an unknown organisation", func(w *aidantWorld, _ *Actor, in *MandateInput) {
			in.OrganisationID = NewID(w.clock)
			w.member(in.OrganisationID, w.aidant.PersonID, MemberAidant, true)
		}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAidantWorld(t, ServiceConfig{})
			a, in := w.aidant, MandateInput{OrganisationID: w.desk, PersonID: w.jane, Areas: []Area{"social"}, Duration: OneMonth}
			tt.change(w, &a, &in)
			if _, err := w.svc.StartMandate(w.ctx, a, in); !errors.Is(err, tt.want) {
				t.Fatalf("StartMandate = %v, want %v", err, tt.want)
			}
			if len(w.st.reps) != 0 {
				t.Errorf("a refused mandate was stored")
			}
		})
	}
}

func TestASecondMandateWithTheSameDeskIsRefusedAndJournaled(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	first := w.start(w.jane, "social")
	_, err := w.svc.StartMandate(w.ctx, w.aidant, MandateInput{OrganisationID: w.desk, PersonID: w.jane, Areas: []Area{"papiers"}, Duration: OneDay})
	var open *OpenError
	if !errors.As(err, &open) || open.ID != first.ID || open.Status != StatusPendingConsent || !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("StartMandate again = %v, want an *OpenError naming the first, waiting", err)
	}
	e := w.st.events[len(w.st.events)-1]
	if e.Type != EventRefused || e.RepresentationID != first.ID || e.Detail["reason"] != "duplicate" || e.PersonID != w.jane {
		t.Errorf("event %+v, want the refusal of a duplicate in the person's journal", e)
	}
	if len(w.st.reps) != 1 {
		t.Errorf("%d mandates stored, want the first only", len(w.st.reps))
	}
}

func TestAPersonConsentsToAMandate(t *testing.T) {
	tests := []struct {
		name    string
		consent func(w *aidantWorld, id string) (Representation, error)
		method  ConsentMethod
	}{
		{"by logging in on the aidant's device", func(w *aidantWorld, id string) (Representation, error) {
			return w.svc.ConfirmByLogin(w.ctx, w.aidant, id, w.jane)
		}, ConsentInPersonLogin},
		{"in person, signing the attestation", func(w *aidantWorld, id string) (Representation, error) {
			return w.svc.RecordInPersonConsent(w.ctx, w.aidant, id, []byte("attestation"))
		}, ConsentInPersonAttestation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAidantWorld(t, ServiceConfig{})
			r := w.start(w.jane, "social")
			w.advance(time.Hour)
			got, err := tt.consent(w, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			c := got.Source.Consent
			if got.Status != StatusActive || c == nil || c.Method != tt.method || c.WitnessID != w.aidant.PersonID || c.GivenBy != w.jane {
				t.Fatalf("status %s, consent %+v; want active, by the person, before the aidant", got.Status, c)
			}
			if !got.ValidFrom.Equal(w.svc.now()) || !got.ValidUntil.Equal(SixMonths.End(got.ValidFrom)) {
				t.Errorf("in force %v to %v, want six months from the consent", got.ValidFrom, got.ValidUntil)
			}
			if tt.method == ConsentInPersonAttestation && len(c.AttestationHash) != 64 {
				t.Errorf("attestation hash %q, want a SHA-256 in hex", c.AttestationHash)
			}
			last := got.History[len(got.History)-1]
			if last.Type != EventConsentGiven || last.ActorID != w.jane || last.Detail["method"] != string(tt.method) {
				t.Errorf("last change %+v, want the person's consent", last)
			}
			if _, err := tt.consent(w, r.ID); !errors.Is(err, ErrInactive) {
				t.Errorf("consenting again = %v, want ErrInactive: it no longer waits", err)
			}
		})
	}
}

func TestAConsentIsRefused(t *testing.T) {
	tests := []struct {
		name    string
		consent func(w *aidantWorld, r Representation) error
		want    error
	}{
		{"when another account confirms", func(w *aidantWorld, r Representation) error {
			_, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, w.person("Eve", "Autre"))
			return err
		}, ErrNotPermitted},
		{"with an empty attestation", func(w *aidantWorld, r Representation) error {
			_, err := w.svc.RecordInPersonConsent(w.ctx, w.aidant, r.ID, nil)
			return err
		}, ErrInvalid},
		{"from an aidant without a second factor", func(w *aidantWorld, r Representation) error {
			_, err := w.svc.ConfirmByLogin(w.ctx, Actor{PersonID: w.aidant.PersonID}, r.ID, w.jane)
			return err
		}, ErrSecondFactor},
		{"for an unknown mandate", func(w *aidantWorld, _ Representation) error {
			_, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, NewID(w.clock), w.jane)
			return err
		}, ErrNotFound},
		{"for a proxy, which is not an aidant mandate", func(w *aidantWorld, _ Representation) error {
			p, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, ProxyInput{HolderID: w.person("Ahmed", "Benali"), Areas: []Area{"social"},
				Granted: []Action{Consult}, Duration: OneMonth})
			if err != nil {
				return err
			}
			_, err = w.svc.ConfirmByLogin(w.ctx, w.aidant, p.ID, w.jane)
			return err
		}, ErrInactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAidantWorld(t, ServiceConfig{})
			r := w.start(w.jane, "social")
			if err := tt.consent(w, r); !errors.Is(err, tt.want) {
				t.Fatalf("consent = %v, want %v", err, tt.want)
			}
			if got := w.stored(r.ID); got.Status != StatusPendingConsent || got.Source.Consent != nil {
				t.Errorf("status %s, consent %+v after a refusal; want it still waiting", got.Status, got.Source.Consent)
			}
		})
	}
}

func TestUnderTutelleThePersonsOwnConsentIsRefusedAndJournaled(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	m := w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	r := w.start(w.jane, "social")
	if r.Waits() != WaitingRepresentative || r.Source.Measure.MeasureID != m.ID || r.Source.Measure.Giver != GivenByRepresentative {
		t.Fatalf("waits %q under %+v; want the tutor, under the tutelle's rule", r.Waits(), r.Source.Measure)
	}
	tries := map[string]func() error{
		"by login": func() error { _, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, w.jane); return err },
		"in person": func() error {
			_, err := w.svc.RecordInPersonConsent(w.ctx, w.aidant, r.ID, []byte("x"))
			return err
		},
		"by a code sent":    func() error { return w.svc.SendConsentCode(w.ctx, w.aidant, r.ID) },
		"by a code checked": func() error { _, err := w.svc.CheckConsentCode(w.ctx, w.aidant, r.ID, "123456"); return err },
	}
	for name, try := range tries {
		t.Run(name, func(t *testing.T) {
			if err := try(); !errors.Is(err, ErrRepresentativeGives) {
				t.Fatalf("consent = %v, want ErrRepresentativeGives", err)
			}
			e := w.st.events[len(w.st.events)-1]
			if e.Type != EventRefused || e.Detail["reason"] != "representative_gives" || e.RepresentationID != r.ID {
				t.Errorf("event %+v, want the refusal journaled", e)
			}
		})
	}
	if len(w.st.sent[w.jane]) != 0 {
		t.Errorf("codes were sent to the person: %v", w.st.sent[w.jane])
	}
}

func TestTheTutorGivesOrRefusesTheMandate(t *testing.T) {
	for _, accept := range []bool{true, false} {
		name := map[bool]string{true: "the tutor gives it: it is in force", false: "the tutor refuses it: it ends"}[accept]
		t.Run(name, func(t *testing.T) {
			w := newAidantWorld(t, ServiceConfig{})
			tutor := Actor{PersonID: w.person("Marie", "Martin")}
			w.measure(Tutelle, w.jane, tutor.PersonID, RoleTuteur)
			r := w.start(w.jane, "social")
			waiting, err := w.svc.RequestsAwaiting(w.ctx, tutor)
			if err != nil || len(waiting) != 1 || waiting[0].ID != r.ID {
				t.Fatalf("RequestsAwaiting = %d, %v; want the request", len(waiting), err)
			}
			got, err := w.svc.AnswerForPerson(w.ctx, tutor, r.ID, r.Version, accept)
			if err != nil {
				t.Fatal(err)
			}
			last := got.History[len(got.History)-1]
			if !accept {
				if got.Status != StatusRevoked || last.Type != EventDeclined {
					t.Errorf("status %s, last %s; want revoked, declined", got.Status, last.Type)
				}
				return
			}
			c := got.Source.Consent
			if got.Status != StatusActive || c == nil || c.Method != ConsentByRepresentative || c.GivenBy != tutor.PersonID ||
				c.WitnessID != w.aidant.PersonID || got.Source.Measure.AnsweredBy != tutor.PersonID || last.Type != EventConsentGiven {
				t.Errorf("status %s, consent %+v, measure %+v, last %s; want in force, given by the tutor before the aidant", got.Status, c,
					got.Source.Measure, last.Type)
			}
			if waiting, _ := w.svc.RequestsAwaiting(w.ctx, tutor); len(waiting) != 0 {
				t.Errorf("%d requests still waiting after the answer", len(waiting))
			}
			if _, err := w.svc.AnswerForPerson(w.ctx, tutor, r.ID, 0, true); !errors.Is(err, ErrInactive) {
				t.Errorf("answering again = %v, want ErrInactive", err)
			}
			given, err := w.svc.GivenFor(w.ctx, tutor, w.jane)
			if err != nil || len(given) != 1 || given[0].ID != r.ID {
				t.Errorf("GivenFor = %d, %v; want the mandate the tutor gave", len(given), err)
			}
		})
	}
}

func TestOnlyTheRepresentativeAnswersForThePerson(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	tutor := Actor{PersonID: w.person("Marie", "Martin")}
	deputy := Actor{PersonID: w.person("Sam", "Subrogé")}
	in := w.measureInput(Tutelle, w.jane, tutor.PersonID, RoleTuteur)
	in.Representatives = append(in.Representatives, RepresentativeInput{PersonID: deputy.PersonID, Role: RoleSubrogeTuteur})
	if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); err != nil {
		t.Fatal(err)
	}
	r := w.start(w.jane, "social")
	for name, a := range map[string]Actor{"the person": {PersonID: w.jane}, "the deputy tutor, who only watches": deputy,
		"the aidant who asked": w.aidant, "a stranger": {PersonID: w.person("Eve", "Autre")}} {
		t.Run(name, func(t *testing.T) {
			if _, err := w.svc.AnswerForPerson(w.ctx, a, r.ID, 0, true); !errors.Is(err, ErrNotFound) {
				t.Errorf("AnswerForPerson = %v, want ErrNotFound: they learn nothing of it", err)
			}
			if waiting, err := w.svc.RequestsAwaiting(w.ctx, a); err != nil || len(waiting) != 0 {
				t.Errorf("RequestsAwaiting = %d, %v; want none", len(waiting), err)
			}
		})
	}
	t.Run("the tutor, on a request changed since they read it", func(t *testing.T) {
		if _, err := w.svc.AnswerForPerson(w.ctx, tutor, r.ID, r.Version+1, true); !errors.Is(err, ErrConflict) {
			t.Errorf("AnswerForPerson on another version = %v, want ErrConflict", err)
		}
	})
	t.Run("an unknown request", func(t *testing.T) {
		if _, err := w.svc.AnswerForPerson(w.ctx, tutor, NewID(w.clock), 0, true); !errors.Is(err, ErrNotFound) {
			t.Errorf("AnswerForPerson = %v, want ErrNotFound", err)
		}
	})
}

func TestUnderCuratelleRenforceeThePersonConsentsThenTheCuratorAgrees(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	curator := Actor{PersonID: w.person("Lucie", "Moreau")}
	w.measure(CuratelleRenforcee, w.jane, curator.PersonID, RoleCurateur)
	r := w.start(w.jane, "social")
	if r.Waits() != WaitingPerson || r.Source.Measure.Giver != GivenWithAgreement {
		t.Fatalf("waits %q under %+v; want the person first", r.Waits(), r.Source.Measure)
	}
	if _, err := w.svc.AnswerForPerson(w.ctx, curator, r.ID, 0, true); !errors.Is(err, ErrInactive) {
		t.Errorf("the curator agreeing before the person = %v, want ErrInactive", err)
	}
	r, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, w.jane)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusPendingConsent || r.Waits() != WaitingRepresentative {
		t.Fatalf("after the person's consent: %s, waits %q; want the curator's agreement", r.Status, r.Waits())
	}
	r, err = w.svc.AnswerForPerson(w.ctx, curator, r.ID, r.Version, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusActive || r.History[len(r.History)-1].Type != EventAgreed || r.Source.Consent.Method != ConsentInPersonLogin {
		t.Errorf("status %s, last %s, consent %+v; want in force on the person's consent with the curator's agreement", r.Status,
			r.History[len(r.History)-1].Type, r.Source.Consent)
	}
}

func TestConsentCodes(t *testing.T) {
	type step struct {
		code string // "": the one sent
		want error
	}
	tests := []struct {
		name   string
		steps  []step
		wait   time.Duration // before the first step
		status Status
		left   int // CodeAttemptsLeft of the last wrong code, if any
	}{
		{"the code sent, read back, activates the mandate", []step{{"", nil}}, 0, StatusActive, 0},
		{"spaces and dashes around the digits do not count", []step{{" spaced ", nil}}, 0, StatusActive, 0},
		{"a wrong code counts and says how many are left", []step{{"000000x", ErrCodeWrong}}, 0, StatusPendingConsent, 2},
		{"a wrong code, then the right one", []step{{"000000x", ErrCodeWrong}, {"", nil}}, 0, StatusActive, 0},
		{"three wrong codes cancel the request", []step{{"000000x", ErrCodeWrong}, {"000000x", ErrCodeWrong}, {"000000x", ErrTooManyCodes}},
			0, StatusRevoked, 0},
		{"a code used once cannot be replayed", []step{{"", nil}, {"", ErrCodeExpired}}, 0, StatusActive, 0},
		{"a code older than its lifetime is refused", []step{{"", ErrCodeExpired}}, 10 * time.Minute, StatusPendingConsent, 0},
		{"a code one second before its end still works", []step{{"", nil}}, 10*time.Minute - time.Second, StatusActive, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAidantWorld(t, ServiceConfig{})
			r := w.start(w.jane, "social")
			if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); err != nil {
				t.Fatal(err)
			}
			sent := w.st.sent[w.jane]
			if len(sent) != 1 || len(sent[0]) != 6 {
				t.Fatalf("codes sent %q, want one of six digits", sent)
			}
			w.advance(tt.wait)
			var left CodeAttemptsLeft
			for i, s := range tt.steps {
				code := s.code
				switch code {
				case "":
					code = sent[0]
				case " spaced ":
					code = " " + sent[0][:3] + "-" + sent[0][3:] + " "
				case "000000x":
					code = wrongCode(sent[0])
				}
				_, err := w.svc.CheckConsentCode(w.ctx, w.aidant, r.ID, code)
				if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
					t.Fatalf("step %d: CheckConsentCode = %v, want %v", i+1, err, s.want)
				}
				left = 0
				errors.As(err, &left)
			}
			got := w.stored(r.ID)
			if got.Status != tt.status {
				t.Errorf("status %s, want %s", got.Status, tt.status)
			}
			if int(left) != tt.left {
				t.Errorf("attempts left %d, want %d", left, tt.left)
			}
			if tt.status == StatusActive {
				c := got.Source.Consent
				if c.Method != ConsentRemoteCode || c.PhoneEnd == "" || len(c.PhoneEnd) != 2 {
					t.Errorf("consent %+v, want a remote code with the phone's last two digits", c)
				}
			}
		})
	}
}

// wrongCode is a six-digit code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestSendingConsentCodesIsRefused(t *testing.T) {
	t.Run("without a way to send text messages", func(t *testing.T) {
		w := newMemWorld(t, ServiceConfig{})
		w.svc.cfg.Codes = nil
		if w.svc.RemoteConsent() {
			t.Error("RemoteConsent without a sender")
		}
		if err := w.svc.SendConsentCode(w.ctx, Actor{PersonID: w.jane}, NewID(w.clock)); !errors.Is(err, ErrNoSender) {
			t.Errorf("SendConsentCode = %v, want ErrNoSender", err)
		}
	})
	t.Run("to a person without a phone", func(t *testing.T) {
		w := newAidantWorld(t, ServiceConfig{})
		if !w.svc.RemoteConsent() {
			t.Error("no RemoteConsent with a sender")
		}
		p := w.st.persons[w.jane]
		p.Phone = ""
		w.st.persons[w.jane] = p
		r := w.start(w.jane, "social")
		if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); !errors.Is(err, ErrNoSender) {
			t.Errorf("SendConsentCode = %v, want ErrNoSender", err)
		}
	})
	t.Run("more than three times for one request", func(t *testing.T) {
		w := newAidantWorld(t, ServiceConfig{})
		r := w.start(w.jane, "social")
		for i := 0; i < 3; i++ {
			if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); err != nil {
				t.Fatalf("code %d: %v", i+1, err)
			}
		}
		if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); !errors.Is(err, ErrTooManyCodes) {
			t.Errorf("a fourth code = %v, want ErrTooManyCodes", err)
		}
		if n := len(w.st.sent[w.jane]); n != 3 {
			t.Errorf("%d codes sent, want 3", n)
		}
	})
	t.Run("for a mandate that no longer waits for consent", func(t *testing.T) {
		w := newAidantWorld(t, ServiceConfig{})
		r := w.start(w.jane, "social")
		if _, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, w.jane); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); !errors.Is(err, ErrInactive) {
			t.Errorf("SendConsentCode = %v, want ErrInactive", err)
		}
	})
	t.Run("when the sender fails, the code is stored but nobody has it", func(t *testing.T) {
		w := newAidantWorld(t, ServiceConfig{})
		r := w.start(w.jane, "social")
		w.st.failOn("SendConsentCode", ErrUnavailable)
		if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); !errors.Is(err, ErrUnavailable) {
			t.Errorf("SendConsentCode = %v, want the sender's failure", err)
		}
	})
	t.Run("checking a code when none was sent", func(t *testing.T) {
		w := newAidantWorld(t, ServiceConfig{})
		r := w.start(w.jane, "social")
		if _, err := w.svc.CheckConsentCode(w.ctx, w.aidant, r.ID, "123456"); !errors.Is(err, ErrCodeExpired) {
			t.Errorf("CheckConsentCode = %v, want ErrCodeExpired", err)
		}
	})
}

func TestChangingAMandateAsksForConsentAgain(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	r := w.start(w.jane, "social")
	if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); err != nil {
		t.Fatal(err)
	}
	code := w.st.sent[w.jane][0]
	if _, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, w.jane); err != nil {
		t.Fatal(err)
	}
	w.advance(time.Minute)
	got, err := w.svc.ChangeMandate(w.ctx, w.aidant, r.ID, []Area{"papiers", "social"}, TwelveMonth)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusPendingConsent || got.Source.Consent != nil || !slices.Equal(got.Areas, []Area{"papiers", "social"}) ||
		!got.ValidUntil.Equal(TwelveMonth.End(got.ValidFrom)) {
		t.Errorf("status %s, consent %+v, areas %v, until %v; want it waiting again for the new areas and length", got.Status,
			got.Source.Consent, got.Areas, got.ValidUntil)
	}
	if _, err := w.svc.CheckConsentCode(w.ctx, w.aidant, r.ID, code); !errors.Is(err, ErrCodeExpired) {
		t.Errorf("the code sent for what the mandate was = %v, want ErrCodeExpired", err)
	}
}

func TestChangingAMandateIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		before func(w *aidantWorld, id string)
		areas  []Area
		d      Duration
		want   error
	}{
		{"for a length aidants do not use", nil, []Area{"social"}, "2y", ErrInvalid},
		{"to an area the organisation does not act in", nil, []Area{"argent"}, OneMonth, ErrInvalid},
		{"to no area at all", nil, nil, OneMonth, ErrInvalid},
		{"when an operator paused it", func(w *aidantWorld, id string) {
			if _, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, id, w.jane); err != nil {
				w.t.Fatal(err)
			}
			if _, err := w.svc.Suspend(w.ctx, w.op, id, 0, ""); err != nil {
				w.t.Fatal(err)
			}
		}, []Area{"social"}, OneMonth, ErrInactive},
		{"when the person withdrew it", func(w *aidantWorld, id string) {
			if _, err := w.svc.Withdraw(w.ctx, Actor{PersonID: w.jane}, id); err != nil {
				w.t.Fatal(err)
			}
		}, []Area{"social"}, OneMonth, ErrInactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAidantWorld(t, ServiceConfig{})
			r := w.start(w.jane, "social")
			if tt.before != nil {
				tt.before(w, r.ID)
			}
			before := w.stored(r.ID)
			if _, err := w.svc.ChangeMandate(w.ctx, w.aidant, r.ID, tt.areas, tt.d); !errors.Is(err, tt.want) {
				t.Fatalf("ChangeMandate = %v, want %v", err, tt.want)
			}
			if got := w.stored(r.ID); got.Version != before.Version {
				t.Errorf("a refused change wrote version %d", got.Version)
			}
		})
	}
	t.Run("of a proxy, which is not an aidant mandate", func(t *testing.T) {
		w := newAidantWorld(t, ServiceConfig{})
		p, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, ProxyInput{HolderID: w.aidant.PersonID, Areas: []Area{"social"},
			Granted: []Action{Consult}, Duration: OneMonth})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.ChangeMandate(w.ctx, w.aidant, p.ID, []Area{"social"}, OneMonth); !errors.Is(err, ErrInactive) {
			t.Errorf("ChangeMandate = %v, want ErrInactive", err)
		}
	})
}

func TestGivingAProxy(t *testing.T) {
	for _, accept := range []bool{true, false} {
		name := map[bool]string{true: "the trusted person accepts: it is in force", false: "the trusted person declines: it ends"}[accept]
		t.Run(name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			holder := Actor{PersonID: w.person("Ahmed", "Benali")}
			p, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, ProxyInput{HolderID: holder.PersonID, Areas: []Area{"social", "papiers"},
				Granted: []Action{Consult, Manage}, Duration: SixMonths})
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != StatusPendingConsent || p.Waits() != WaitingHolder || p.Source.Consent.Method != ConsentOwnAccount {
				t.Fatalf("status %s, waits %q, consent %+v; want it waiting for the holder", p.Status, p.Waits(), p.Source.Consent)
			}
			if _, err := w.svc.AnswerProxy(w.ctx, Actor{PersonID: w.jane}, p.ID, true); !errors.Is(err, ErrNotFound) {
				t.Errorf("the person answering in the holder's place = %v, want ErrNotFound", err)
			}
			w.advance(time.Hour)
			got, err := w.svc.AnswerProxy(w.ctx, holder, p.ID, accept)
			if err != nil {
				t.Fatal(err)
			}
			want, event := StatusRevoked, EventDeclined
			if accept {
				want, event = StatusActive, EventAccepted
			}
			if got.Status != want || got.History[len(got.History)-1].Type != event {
				t.Errorf("status %s, last %s; want %s, %s", got.Status, got.History[len(got.History)-1].Type, want, event)
			}
			if accept && (!got.ValidFrom.Equal(w.svc.now()) || got.Source.Consent.AcceptedAt.IsZero()) {
				t.Errorf("in force from %v, accepted %v; want from the acceptance", got.ValidFrom, got.Source.Consent.AcceptedAt)
			}
			if _, err := w.svc.AnswerProxy(w.ctx, holder, p.ID, true); !errors.Is(err, ErrInactive) {
				t.Errorf("answering again = %v, want ErrInactive", err)
			}
		})
	}
}

func TestGivingAProxyIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(w *memWorld, a *Actor, in *ProxyInput)
		want   error
	}{
		{"for a length that is not offered", func(_ *memWorld, _ *Actor, in *ProxyInput) { in.Duration = "" }, ErrInvalid},
		{"to an unknown person", func(w *memWorld, _ *Actor, in *ProxyInput) { in.HolderID = NewID(w.clock) }, ErrInvalid},
		{"to oneself", func(_ *memWorld, a *Actor, in *ProxyInput) { in.HolderID = a.PersonID }, ErrInvalid},
		{"giving the right to dispose", func(_ *memWorld, _ *Actor, in *ProxyInput) { in.Granted = []Action{Dispose} }, ErrInvalid},
		{"for someone else, without a measure that lets the actor give it", func(w *memWorld, a *Actor, in *ProxyInput) {
			in.ForPersonID = w.person("Paul", "Durand")
		}, ErrNotPermitted},
		{"for an unknown person", func(w *memWorld, _ *Actor, in *ProxyInput) { in.ForPersonID = NewID(w.clock) }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			a, in := Actor{PersonID: w.jane}, ProxyInput{HolderID: w.person("Ahmed", "Benali"), Areas: []Area{"social"}, Granted: []Action{Consult}, Duration: OneMonth}
			tt.change(w, &a, &in)
			if _, err := w.svc.GiveProxy(w.ctx, a, in); !errors.Is(err, tt.want) {
				t.Fatalf("GiveProxy = %v, want %v", err, tt.want)
			}
			if len(w.st.reps) != 0 {
				t.Error("a refused proxy was stored")
			}
		})
	}
}

func TestASecondProxyToTheSamePersonIsRefusedAndJournaled(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	holder := w.person("Ahmed", "Benali")
	in := ProxyInput{HolderID: holder, Areas: []Area{"social"}, Granted: []Action{Consult}, Duration: OneMonth}
	first, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, in)
	var open *OpenError
	if !errors.As(err, &open) || open.ID != first.ID {
		t.Fatalf("GiveProxy again = %v, want an *OpenError naming the first", err)
	}
	if e := w.st.events[len(w.st.events)-1]; e.Type != EventRefused || e.Detail["reason"] != "duplicate" {
		t.Errorf("event %+v, want the refusal journaled", e)
	}
}

func TestUnderTutelleTheTutorGivesTheProxy(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor := Actor{PersonID: w.person("Marie", "Martin")}
	m := w.measure(Tutelle, w.jane, tutor.PersonID, RoleTuteur)
	holder := Actor{PersonID: w.person("Ahmed", "Benali")}
	in := ProxyInput{HolderID: holder.PersonID, Areas: []Area{"social"}, Granted: []Action{Consult}, Duration: OneMonth}

	_, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, in)
	if !errors.Is(err, ErrRepresentativeGives) {
		t.Fatalf("the person giving it = %v, want ErrRepresentativeGives", err)
	}
	if e := w.st.events[len(w.st.events)-1]; e.Type != EventRefused || e.Detail["measure_id"] != m.ID {
		t.Errorf("event %+v, want the refusal journaled with the measure", e)
	}

	in.ForPersonID = w.jane
	p, err := w.svc.GiveProxy(w.ctx, tutor, in)
	if err != nil {
		t.Fatal(err)
	}
	if p.PersonID != w.jane || p.Source.Consent.Method != ConsentByRepresentative || p.Source.Measure.AnsweredBy != tutor.PersonID || p.Waits() != WaitingHolder {
		t.Fatalf("proxy over %s, consent %+v, measure %+v, waits %q; want given by the tutor, waiting for the holder", p.PersonID,
			p.Source.Consent, p.Source.Measure, p.Waits())
	}
	if p, err = w.svc.AnswerProxy(w.ctx, holder, p.ID, true); err != nil || p.Status != StatusActive {
		t.Fatalf("AnswerProxy = %v, %v; want it in force", p.Status, err)
	}
	if _, err := w.svc.Usable(w.ctx, holder, p.ID, w.clock); err != nil {
		t.Fatalf("Usable while the tutelle is in force = %v", err)
	}

	t.Run("the person cannot stop what the tutor gave, but the tutor can", func(t *testing.T) {
		given, err := w.svc.GivenFor(w.ctx, tutor, w.jane)
		if err != nil || len(given) != 1 {
			t.Fatalf("GivenFor = %d, %v; want the proxy", len(given), err)
		}
		if _, err := w.svc.WithdrawArea(w.ctx, Actor{PersonID: w.person("Eve", "Autre")}, p.ID, "social"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a stranger withdrawing an area = %v, want ErrNotFound", err)
		}
		got, err := w.svc.Withdraw(w.ctx, tutor, p.ID)
		if err != nil || got.Status != StatusRevoked {
			t.Fatalf("the tutor withdrawing it = %v, %v; want it ended", got.Status, err)
		}
	})

	t.Run("a proxy the tutor gave ends with the tutelle", func(t *testing.T) {
		w.clock = w.clock.Add(time.Hour)
		p2, err := w.svc.GiveProxy(w.ctx, tutor, ProxyInput{HolderID: holder.PersonID, Areas: []Area{"papiers"}, Granted: []Action{Consult},
			Duration: OneMonth, ForPersonID: w.jane})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AnswerProxy(w.ctx, holder, p2.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.End(w.ctx, w.op, m.ID, 0, "mainlevée"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Usable(w.ctx, holder, p2.ID, w.clock); !errors.Is(err, ErrInactive) {
			t.Errorf("Usable after the tutelle ended = %v, want ErrInactive", err)
		}
	})
}

func TestThePersonWithdrawsAProxyOrOneArea(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	jane := Actor{PersonID: w.jane}
	holder := Actor{PersonID: w.person("Ahmed", "Benali")}
	p, err := w.svc.GiveProxy(w.ctx, jane, ProxyInput{HolderID: holder.PersonID, Areas: []Area{"social", "papiers"}, Granted: []Action{Consult},
		Duration: OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AnswerProxy(w.ctx, holder, p.ID, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		do    func() (Representation, error)
		want  error
		check func(r Representation) bool
	}{
		{"the holder cannot withdraw it in the person's place", func() (Representation, error) { return w.svc.Withdraw(w.ctx, holder, p.ID) }, ErrNotFound, nil},
		{"an area it does not cover is refused", func() (Representation, error) { return w.svc.WithdrawArea(w.ctx, jane, p.ID, "argent") }, ErrInvalid, nil},
		{"one area out of two is taken out", func() (Representation, error) { return w.svc.WithdrawArea(w.ctx, jane, p.ID, "papiers") }, nil,
			func(r Representation) bool {
				return r.Status == StatusActive && slices.Equal(r.Areas, []Area{"social"}) && r.History[len(r.History)-1].Type == EventAreaWithdrawn
			}},
		{"the last area taken out ends it", func() (Representation, error) { return w.svc.WithdrawArea(w.ctx, jane, p.ID, "social") }, nil,
			func(r Representation) bool {
				return r.Status == StatusRevoked && r.History[len(r.History)-1].Type == EventWithdrawn
			}},
		{"an ended proxy cannot be withdrawn again", func() (Representation, error) { return w.svc.Withdraw(w.ctx, jane, p.ID) }, ErrInactive, nil},
		{"nor an area of it", func() (Representation, error) { return w.svc.WithdrawArea(w.ctx, jane, p.ID, "social") }, ErrInactive, nil},
		{"an unknown one is not found", func() (Representation, error) { return w.svc.Withdraw(w.ctx, jane, NewID(w.clock)) }, ErrNotFound, nil},
	}
	for _, tt := range tests { // in order: each step starts where the last left it
		got, err := tt.do()
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Fatalf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if tt.check != nil && !tt.check(got) {
			t.Errorf("%s: status %s, areas %v, history %d", tt.name, got.Status, got.Areas, len(got.History))
		}
	}
}

func TestAPersonCannotWithdrawACourtMeasure(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	m := w.measure(CuratelleSimple, w.jane, w.person("Marie", "Martin"), RoleCurateur)
	if _, err := w.svc.Withdraw(w.ctx, Actor{PersonID: w.jane}, m.ID); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("Withdraw = %v, want ErrNotPermitted", err)
	}
	if _, err := w.svc.WithdrawArea(w.ctx, Actor{PersonID: w.jane}, m.ID, "social"); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("WithdrawArea = %v, want ErrNotPermitted", err)
	}
}
