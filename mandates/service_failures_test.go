package mandates

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

// mandateOfJane is the desk's mandate for Jane, which her tutor gave.
func (w *searchWorld) mandateOfJane() string {
	for _, r := range w.st.reps {
		if r.Kind == AidantMandate && r.PersonID == w.jane {
			return r.ID
		}
	}
	w.t.Fatal("no mandate for Jane")
	return ""
}

// failureCase sets up a world, then returns the operation under test.
type failureCase struct {
	name  string
	setup func(w *searchWorld) func() error
}

// failureCases are the service's operations, each in a state where it
// succeeds.
func failureCases() []failureCase {
	return []failureCase{
		{"registering a measure", func(w *searchWorld) func() error {
			in := w.measureInput(CuratelleSimple, w.person("Yvette", "Garnier"), "", RoleCurateur)
			in.Representatives[0] = RepresentativeInput{OrganisationID: w.desk, Role: RoleCurateur}
			return func() error { _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); return err }
		}},
		{"pausing a measure", func(w *searchWorld) func() error {
			m := w.measure(CuratelleSimple, w.person("Yvette", "Garnier"), w.tutor, RoleCurateur)
			return func() error { _, err := w.svc.Suspend(w.ctx, w.op, m.ID, 0, ""); return err }
		}},
		{"starting a mandate", func(w *searchWorld) func() error {
			in := MandateInput{OrganisationID: w.desk, PersonID: w.paul, Areas: []Area{"social"}, Duration: OneMonth}
			return func() error { _, err := w.svc.StartMandate(w.ctx, w.aidant, in); return err }
		}},
		{"a consent by login", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social")
			return func() error { _, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, w.paul); return err }
		}},
		{"sending a consent code", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social")
			return func() error { return w.svc.SendConsentCode(w.ctx, w.aidant, r.ID) }
		}},
		{"checking the right consent code", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social")
			if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); err != nil {
				w.t.Fatal(err)
			}
			code := w.st.sent[w.paul][0]
			return func() error { _, err := w.svc.CheckConsentCode(w.ctx, w.aidant, r.ID, code); return err }
		}},
		{"checking a wrong consent code", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social")
			if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); err != nil {
				w.t.Fatal(err)
			}
			code := wrongCode(w.st.sent[w.paul][0])
			return func() error {
				_, err := w.svc.CheckConsentCode(w.ctx, w.aidant, r.ID, code)
				if errors.Is(err, ErrCodeWrong) {
					return nil
				}
				return err
			}
		}},
		{"changing a mandate", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social")
			if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); err != nil {
				w.t.Fatal(err)
			}
			return func() error {
				_, err := w.svc.ChangeMandate(w.ctx, w.aidant, r.ID, []Area{"papiers"}, OneDay)
				return err
			}
		}},
		{"the tutor giving a mandate", func(w *searchWorld) func() error {
			if _, err := w.svc.Withdraw(w.ctx, Actor{PersonID: w.tutor}, w.mandateOfJane()); err != nil {
				w.t.Fatal(err)
			}
			r := w.start(w.jane, "papiers")
			return func() error {
				_, err := w.svc.AnswerForPerson(w.ctx, Actor{PersonID: w.tutor}, r.ID, 0, true)
				return err
			}
		}},
		{"the requests awaiting the tutor", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.RequestsAwaiting(w.ctx, Actor{PersonID: w.tutor}); return err }
		}},
		{"what the tutor gave", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.GivenFor(w.ctx, Actor{PersonID: w.tutor}, w.jane); return err }
		}},
		{"the tutor giving a proxy", func(w *searchWorld) func() error {
			in := ProxyInput{HolderID: w.paul, Areas: []Area{"social"}, Granted: []Action{Consult}, Duration: OneMonth, ForPersonID: w.jane}
			return func() error { _, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.tutor}, in); return err }
		}},
		{"accepting a proxy", func(w *searchWorld) func() error {
			p, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.paul}, ProxyInput{HolderID: w.other, Areas: []Area{"social"}, Granted: []Action{Consult},
				Duration: OneMonth})
			if err != nil {
				w.t.Fatal(err)
			}
			return func() error { _, err := w.svc.AnswerProxy(w.ctx, Actor{PersonID: w.other}, p.ID, true); return err }
		}},
		{"taking an area out of a mandate", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social", "papiers")
			return func() error { _, err := w.svc.WithdrawArea(w.ctx, Actor{PersonID: w.paul}, r.ID, "social"); return err }
		}},
		{"creating an organisation", func(w *searchWorld) func() error {
			return func() error {
				_, err := w.svc.CreateOrganisation(w.ctx, w.op, Organisation{Name: "CCAS", Kind: OrgCCAS, Address: udafAddress}, w.paul)
				return err
			}
		}},
		{"an operator reading an organisation", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.Organisation(w.ctx, w.op.PersonID, w.desk); return err }
		}},
		{"listing members", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.Members(w.ctx, w.admin, w.desk); return err }
		}},
		{"listing an organisation's mandates", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.Mandates(w.ctx, w.admin, w.desk); return err }
		}},
		{"listing a person's memberships", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.MembershipsOf(w.ctx, w.aidant.PersonID); return err }
		}},
		{"habilitating an aidant", func(w *searchWorld) func() error {
			w.st.twoFactor[w.paul] = true
			return func() error { _, err := w.svc.Habilitate(w.ctx, w.admin, w.desk, w.paul, MemberAidant); return err }
		}},
		{"withdrawing a member", func(w *searchWorld) func() error {
			return func() error { return w.svc.WithdrawMember(w.ctx, w.admin, w.desk, w.other) }
		}},
		{"naming delegates", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social")
			return func() error { _, err := w.svc.SetDelegates(w.ctx, w.admin, r.ID, 0, []string{w.other}); return err }
		}},
		{"an aidant reading a mandate", func(w *searchWorld) func() error {
			r := w.start(w.paul, "social")
			return func() error { _, err := w.svc.Representation(w.ctx, w.other, r.ID); return err }
		}},
		{"using a mandate", func(w *searchWorld) func() error {
			id := w.mandateOfJane()
			return func() error { _, err := w.svc.Usable(w.ctx, w.aidant, id, w.clock); return err }
		}},
		{"the areas an aidant may act in", func(w *searchWorld) func() error {
			return func() error {
				_, err := w.svc.AreasAllowed(w.ctx, w.aidant, Question{PersonID: w.jane, Action: Manage})
				return err
			}
		}},
		{"who may act for me", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.Of(w.ctx, w.jane); return err }
		}},
		{"for whom I act", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.For(w.ctx, w.aidant.PersonID); return err }
		}},
		{"the protection scope", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.Protection(w.ctx, w.jane, w.clock); return err }
		}},
		{"the operator's search", func(w *searchWorld) func() error {
			return func() error { _, err := w.svc.SearchMeasures(w.ctx, w.op, "jeanne"); return err }
		}},
		{"asking for and answering a co-signature", func(w *searchWorld) func() error {
			return func() error {
				c, err := w.svc.RequestCosignature(w.ctx, CosignatureRequest{ClientID: "caf", PersonID: w.paul, ActorID: w.paul, Action: Dispose,
					Area: "argent", Description: "Vendre"})
				if err != nil {
					return err
				}
				if _, err := w.svc.CosignaturesAwaiting(w.ctx, Actor{PersonID: w.tutor}); err != nil {
					return err
				}
				if _, err := w.svc.CosignatureToAgree(w.ctx, Actor{PersonID: w.tutor}, c.ID); err != nil {
					return err
				}
				if _, err := w.svc.AnswerCosignature(w.ctx, Actor{PersonID: w.tutor}, c.ID, true); err != nil {
					return err
				}
				if _, err := w.svc.CosignatureOf(w.ctx, "caf", c.ID); err != nil {
					return err
				}
				_, err = w.svc.Evaluate(w.ctx, Question{ActorID: w.paul, PersonID: w.paul, Action: Dispose, Area: "argent"}, "caf", c.ID)
				return err
			}
		}},
		{"searching who may act", func(w *searchWorld) func() error {
			return func() error {
				_, err := w.svc.Search(w.ctx, Search{Kind: SearchActors, PersonID: w.jane, Action: Manage, Area: "social", Limit: 10}, "caf", w.names)
				return err
			}
		}},
		{"recording expiries", func(w *searchWorld) func() error {
			w.advance(366 * 24 * time.Hour)
			return func() error { _, err := w.svc.RecordExpiries(w.ctx, 0); return err }
		}},
	}
}

// TestAStoreFailureIsPassedOnNeverTakenForAnAnswer fails, one at a time,
// every store method each operation calls when it succeeds: the operation
// must return that failure (ErrUnavailable), not a refusal, an empty list
// or a success.
func TestAStoreFailureIsPassedOnNeverTakenForAnAnswer(t *testing.T) {
	for _, tc := range failureCases() {
		t.Run(tc.name, func(t *testing.T) {
			w := newSearchWorld(t)
			op := tc.setup(w)
			clear(w.st.calls)
			if err := op(); err != nil {
				t.Fatalf("without failures: %v", err)
			}
			methods := slices.Sorted(maps.Keys(w.st.calls))
			for _, method := range methods {
				w := newSearchWorld(t)
				op := tc.setup(w)
				w.st.failOn(method, ErrUnavailable)
				if err := op(); !errors.Is(err, ErrUnavailable) {
					t.Errorf("when %s fails: %v, want ErrUnavailable", method, err)
				}
			}
		})
	}
}
