package mandates

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRegisteringAMeasure(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor, cotutor := w.person("Marie", "Martin"), w.person("Luc", "Martin")
	in := w.measureInput(Tutelle, w.jane, tutor, RoleTuteur)
	in.Representatives = append(in.Representatives, RepresentativeInput{PersonID: cotutor, Role: RoleCoTuteur, Areas: []Area{"social", "argent"}})
	reps, err := w.svc.RegisterMeasure(w.ctx, w.op, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 {
		t.Fatalf("%d representations, want one per representative", len(reps))
	}
	for _, r := range reps {
		if r.Status != StatusActive || r.Version != 1 || len(r.History) != 1 || r.History[0].Type != EventCreated {
			t.Errorf("%s: status %s, version %d, history %+v; want active, 1, one creation", r.Role, r.Status, r.Version, r.History)
		}
		if r.Source.Decision.RegisteredBy != w.op.PersonID || r.Source.Decision.RegisteredAt.IsZero() {
			t.Errorf("%s: the decision does not say who registered it: %+v", r.Role, r.Source.Decision)
		}
	}
	if !slices.Equal(reps[1].Areas, []Area{"social", "argent"}) || len(reps[0].Areas) != 0 {
		t.Errorf("areas %v and %v: want the measure's (every area), then the co-tutor's own", reps[0].Areas, reps[1].Areas)
	}
	if got := w.st.eventTypes(); !slices.Equal(got, []EventType{EventCreated, EventCreated}) {
		t.Errorf("events %v, want one creation per representative", got)
	}

	mpf := w.measure(MandatProtectionFuture, w.person("Paul", "Durand"), tutor, RoleMandataire)
	if mpf.Status != StatusPending {
		t.Errorf("a mandat de protection future starts %s, want pending until an operator activates it", mpf.Status)
	}
}

func TestRegisteringAMeasureIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(w *memWorld, in *MeasureInput, op *Actor)
		want   error
	}{
		{"by someone who is not an operator", func(w *memWorld, _ *MeasureInput, op *Actor) { op.PersonID = w.jane }, ErrNotPermitted},
		{"by an actor whose id is not an id", func(_ *memWorld, _ *MeasureInput, op *Actor) { op.PersonID = "odile" }, ErrNotPermitted},
		{"for a kind that is not a measure", func(_ *memWorld, in *MeasureInput, _ *Actor) { in.Kind = AidantMandate }, ErrInvalid},
		{"without a representative", func(_ *memWorld, in *MeasureInput, _ *Actor) { in.Representatives = nil }, ErrInvalid},
		{"over an unknown person", func(w *memWorld, in *MeasureInput, _ *Actor) { in.PersonID = NewID(w.clock) }, ErrInvalid},
		{"over a person id that is not an id", func(_ *memWorld, in *MeasureInput, _ *Actor) { in.PersonID = "jeanne" }, ErrInvalid},
		{"naming an unknown representative", func(w *memWorld, in *MeasureInput, _ *Actor) {
			in.Representatives[0].PersonID = NewID(w.clock)
		}, ErrInvalid},
		{"naming an unknown organisation", func(w *memWorld, in *MeasureInput, _ *Actor) {
			in.Representatives[0] = RepresentativeInput{OrganisationID: NewID(w.clock), Role: RoleTuteur}
		}, ErrInvalid},
		{"naming an organisation by something that is not an id", func(_ *memWorld, in *MeasureInput, _ *Actor) {
			in.Representatives[0] = RepresentativeInput{OrganisationID: "udaf", Role: RoleTuteur}
		}, ErrInvalid},
		{"naming the same representative twice", func(_ *memWorld, in *MeasureInput, _ *Actor) {
			in.Representatives = append(in.Representatives, RepresentativeInput{PersonID: in.Representatives[0].PersonID, Role: RoleCoTuteur})
		}, ErrInvalid},
		{"with a role of another kind", func(_ *memWorld, in *MeasureInput, _ *Actor) { in.Representatives[0].Role = RoleCurateur }, ErrInvalid},
		{"when its second representative is invalid, the first is not kept either", func(w *memWorld, in *MeasureInput, _ *Actor) {
			in.Representatives = append(in.Representatives, RepresentativeInput{PersonID: w.person("Luc", "Martin"), Role: RoleAidant})
		}, ErrInvalid},
		{"for longer than the law allows", func(_ *memWorld, in *MeasureInput, _ *Actor) { in.ValidUntil = in.ValidFrom.AddDate(11, 0, 0) }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			in, op := w.measureInput(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur), w.op
			tt.change(w, &in, &op)
			_, err := w.svc.RegisterMeasure(w.ctx, op, in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RegisterMeasure = %v, want %v", err, tt.want)
			}
			if len(w.st.reps) != 0 || len(w.st.events) != 0 {
				t.Errorf("a refused registration left %d representations and %d events", len(w.st.reps), len(w.st.events))
			}
		})
	}
}

func TestTheSameDecisionIsRegisteredOnce(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	in := w.measureInput(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
	if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); err != nil {
		t.Fatal(err)
	}
	// The same decision, typed with other spaces and capitals.
	in.Decision.Jurisdiction, in.Decision.Reference = "tribunal  judiciaire de LYON", " "+in.Decision.Reference+" "
	in.Representatives[0].PersonID = w.person("Luc", "Martin")
	_, err := w.svc.RegisterMeasure(w.ctx, w.op, in)
	var ue *UniqueError
	if !errors.As(err, &ue) || ue.Field != "decision" || !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("RegisterMeasure again = %v, want a *UniqueError on the decision", err)
	}
	if len(w.st.reps) != 1 {
		t.Errorf("%d representations stored, want the first only", len(w.st.reps))
	}
}

func TestARegistrationFailsWhenTheStoreDoes(t *testing.T) {
	for _, method := range []string{"HasRole", "InTx", "Person", "DecisionRegistered", "Organisation", "CreateRepresentation", "Emit", "Representation"} {
		t.Run(method, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			in := w.measureInput(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
			if method == "Organisation" {
				in.Representatives[0] = RepresentativeInput{OrganisationID: w.org("UDAF"), Role: RoleTuteur}
			}
			w.st.failOn(method, ErrUnavailable)
			if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("RegisterMeasure = %v, want the store's ErrUnavailable", err)
			}
			w.st.failOn(method, nil)
			if len(w.st.reps) != 0 {
				t.Errorf("%d representations stored after a failure", len(w.st.reps))
			}
		})
	}
}

// statusChanges are the operator's changes of a representation's status.
var statusChanges = map[string]func(w *memWorld, id string, version int64) (Representation, error){
	"activate": func(w *memWorld, id string, v int64) (Representation, error) {
		return w.svc.ActivateMeasure(w.ctx, w.op, id, v)
	},
	"suspend": func(w *memWorld, id string, v int64) (Representation, error) {
		return w.svc.Suspend(w.ctx, w.op, id, v, "enquête")
	},
	"resume": func(w *memWorld, id string, v int64) (Representation, error) { return w.svc.Resume(w.ctx, w.op, id, v) },
	"end": func(w *memWorld, id string, v int64) (Representation, error) {
		return w.svc.End(w.ctx, w.op, id, v, "mainlevée")
	},
}

func TestWhatAnOperatorMayDoNextToAMeasure(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		before []string // changes made first
		change string
		want   Status    // the stored status after, when allowed
		event  EventType // and its event
		err    error     // or the refusal
	}{
		{"a mandat de protection future waiting to take effect is activated", MandatProtectionFuture, nil, "activate", StatusActive, EventActivated, nil},
		{"a measure in force cannot be activated again", Tutelle, nil, "activate", "", "", ErrInactive},
		{"a measure in force is paused", Tutelle, nil, "suspend", StatusSuspended, EventSuspended, nil},
		{"a paused measure cannot be paused again", Tutelle, []string{"suspend"}, "suspend", "", "", ErrInactive},
		{"a mandat de protection future not yet in effect cannot be paused", MandatProtectionFuture, nil, "suspend", "", "", ErrInactive},
		{"a paused measure resumes", Tutelle, []string{"suspend"}, "resume", StatusActive, EventResumed, nil},
		{"a measure in force cannot resume", Tutelle, nil, "resume", "", "", ErrInactive},
		{"a measure in force ends", Tutelle, nil, "end", StatusRevoked, EventRevoked, nil},
		{"a paused measure ends", Tutelle, []string{"suspend"}, "end", StatusRevoked, EventRevoked, nil},
		{"an ended measure cannot end again", Tutelle, []string{"end"}, "end", "", "", ErrInactive},
		{"an ended measure cannot resume", Tutelle, []string{"end"}, "resume", "", "", ErrInactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			m := w.measure(tt.kind, w.jane, w.person("Marie", "Martin"), RolesOf[tt.kind][0])
			for _, b := range tt.before {
				if _, err := statusChanges[b](w, m.ID, 0); err != nil {
					t.Fatalf("%s first: %v", b, err)
				}
			}
			before := w.stored(m.ID)
			events := len(w.st.events)
			r, err := statusChanges[tt.change](w, m.ID, before.Version)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("%s = %v, want %v", tt.change, err, tt.err)
				}
				if after := w.stored(m.ID); after.Version != before.Version || len(w.st.events) != events {
					t.Errorf("a refused change wrote version %d (was %d) and %d events", after.Version, before.Version, len(w.st.events)-events)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s = %v", tt.change, err)
			}
			last := r.History[len(r.History)-1]
			if r.Status != tt.want || r.Version != before.Version+1 || last.Type != tt.event || last.From != before.Status || last.To != tt.want ||
				last.ActorID != w.op.PersonID {
				t.Errorf("status %s, version %d, last change %+v; want %s, %d, %s by the operator", r.Status, r.Version, last, tt.want,
					before.Version+1, tt.event)
			}
			if e := w.st.events[len(w.st.events)-1]; e.Type != tt.event || e.RepresentationID != m.ID || e.PersonID != w.jane {
				t.Errorf("event %+v, want %s of the measure in the person's journal", e, tt.event)
			}
		})
	}
}

func TestAMeasureWhoseEndPassedIsNotActivated(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	in := w.measureInput(MandatProtectionFuture, w.jane, w.person("Marie", "Martin"), RoleMandataire)
	in.ValidUntil = w.clock.AddDate(0, 1, 0)
	reps, err := w.svc.RegisterMeasure(w.ctx, w.op, in)
	if err != nil {
		t.Fatal(err)
	}
	w.advance(40 * 24 * time.Hour)
	if _, err := w.svc.ActivateMeasure(w.ctx, w.op, reps[0].ID, 0); !errors.Is(err, ErrInactive) {
		t.Errorf("ActivateMeasure after its end = %v, want ErrInactive", err)
	}
}

func TestAnOperatorsChangeOnAStaleFormConflicts(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	m := w.measure(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
	if _, err := w.svc.Suspend(w.ctx, w.op, m.ID, m.Version, "enquête"); err != nil {
		t.Fatal(err)
	}
	// A second operator's form was built from version 1.
	if _, err := w.svc.End(w.ctx, w.op, m.ID, m.Version, "mainlevée"); !errors.Is(err, ErrConflict) {
		t.Fatalf("End on a stale version = %v, want ErrConflict", err)
	}
	if got := w.stored(m.ID); got.Status != StatusSuspended {
		t.Errorf("status %s after a conflict, want suspended, unchanged", got.Status)
	}
}

func TestAConcurrentWriterMakesTheChangeConflictAndNothingIsWritten(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	m := w.measure(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
	events := len(w.st.events)
	w.st.interleave = func(st *memStore) {
		r := st.reps[m.ID]
		r.Version++
		st.reps[m.ID] = r
	}
	if _, err := w.svc.Suspend(w.ctx, w.op, m.ID, 0, "enquête"); !errors.Is(err, ErrConflict) {
		t.Fatalf("Suspend under a concurrent writer = %v, want ErrConflict", err)
	}
	if got := w.stored(m.ID); got.Status != StatusActive || len(got.History) != 1 || len(w.st.events) != events {
		t.Errorf("status %s, %d history entries, %d new events: want the record untouched", got.Status, len(got.History), len(w.st.events)-events)
	}
}

func TestOperatorChangesAreRefused(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	m := w.measure(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
	for name, change := range statusChanges {
		t.Run(name+" by someone who is not an operator", func(t *testing.T) {
			jane := Actor{PersonID: w.jane}
			var err error
			switch name {
			case "activate":
				_, err = w.svc.ActivateMeasure(w.ctx, jane, m.ID, 0)
			case "suspend":
				_, err = w.svc.Suspend(w.ctx, jane, m.ID, 0, "")
			case "resume":
				_, err = w.svc.Resume(w.ctx, jane, m.ID, 0)
			case "end":
				_, err = w.svc.End(w.ctx, jane, m.ID, 0, "")
			}
			if !errors.Is(err, ErrNotPermitted) {
				t.Errorf("%s = %v, want ErrNotPermitted", name, err)
			}
		})
		t.Run(name+" of an unknown representation", func(t *testing.T) {
			if _, err := change(w, NewID(w.clock), 0); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s = %v, want ErrNotFound", name, err)
			}
		})
	}
}

func TestCorrectingAMeasure(t *testing.T) {
	adj := []Adjustment{{Party: PartyPerson, Area: "argent", Action: Manage, Decision: Allowed}}
	const reason = "jugement rectificatif du 2 mars 2027"
	tests := []struct {
		name    string
		correct func(w *memWorld, m Representation, c *MeasureCorrection)
		fields  string
	}{
		{"a new end is recorded", func(_ *memWorld, m Representation, c *MeasureCorrection) {
			c.ValidUntil = m.ValidUntil.AddDate(0, 6, 0)
		}, "valid_until"},
		{"areas and adjustments are recorded together", func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Areas, c.Adjustments = []Area{"social", "argent"}, adj
		}, "procedure_areas adjustments"},
		{"the decision's number, court and date are recorded together", func(_ *memWorld, m Representation, c *MeasureCorrection) {
			c.Decision.Reference, c.Decision.Jurisdiction = "RG 27/00001", "Tribunal judiciaire de Villeurbanne"
			c.Decision.Date = m.Source.Decision.Date.AddDate(0, 0, -1)
		}, "decision_reference decision_jurisdiction decision_date"},
		{"a renewal and its start are recorded", func(_ *memWorld, m Representation, c *MeasureCorrection) {
			c.Decision.Renewal, c.ValidFrom = true, m.ValidFrom.AddDate(0, 0, -2)
		}, "renewal valid_from"},
		{"the role under the same kind is recorded", func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Representative.Role = RoleTuteurBiens
		}, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			m := w.measure(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
			c := CorrectionOf(&m)
			c.Reason = reason
			tt.correct(w, m, &c)
			r, err := w.svc.CorrectMeasure(w.ctx, w.op, m.ID, m.Version, c)
			if err != nil {
				t.Fatal(err)
			}
			last := r.History[len(r.History)-1]
			if r.ID != m.ID || r.Version != m.Version+1 || last.Type != EventUpdated || last.Detail["fields"] != tt.fields ||
				last.Detail["reason"] != reason || last.ActorID != w.op.PersonID {
				t.Errorf("corrected %s v%d, last change %+v; want %s v%d corrected in %q with its reason", r.ID, r.Version, last, m.ID, m.Version+1, tt.fields)
			}
			want := CorrectionOf(&r)
			want.Reason = reason
			c.Areas = SortAreas(c.Areas)
			if !reflect.DeepEqual(want, c) {
				t.Errorf("stored %+v\nwant  %+v", want, c)
			}
			if d := r.Source.Decision; d.RegisteredBy != w.op.PersonID || !d.RegisteredAt.Equal(m.Source.Decision.RegisteredAt) {
				t.Errorf("the registration changed: %+v", d)
			}
			e := w.st.events[len(w.st.events)-1]
			if e.Type != EventUpdated || e.RepresentationID != m.ID || e.PersonID != w.jane || e.Detail["reason"] != reason {
				t.Errorf("journaled %+v, want the correction in Jeanne's journal with its reason", e)
			}
		})
	}
}

func TestACorrectionIsRefusedWithTheFieldAndTheRule(t *testing.T) {
	tests := []struct {
		name    string
		kind    Kind
		correct func(w *memWorld, m Representation, c *MeasureCorrection)
		want    InvalidError
	}{
		{"a correction without a reason", Tutelle, func(_ *memWorld, m Representation, c *MeasureCorrection) {
			c.Reason, c.ValidUntil = "  ", m.ValidUntil.AddDate(0, 1, 0)
		}, InvalidError{Field: "reason", Rule: RuleRequired}},
		{"a reason longer than the limit", Tutelle, func(_ *memWorld, m Representation, c *MeasureCorrection) {
			c.Reason, c.ValidUntil = strings.Repeat("é", MaxReason/2+1), m.ValidUntil.AddDate(0, 1, 0)
		}, InvalidError{Field: "reason", Rule: RuleTooLong, Limit: MaxReason}},
		{"a correction that changes nothing", Tutelle, func(*memWorld, Representation, *MeasureCorrection) {},
			InvalidError{Field: "edit", Rule: RuleUnchanged}},
		{"an end before the start", Tutelle, func(_ *memWorld, m Representation, c *MeasureCorrection) {
			c.ValidUntil = m.ValidFrom.AddDate(0, 0, -1)
		}, InvalidError{Field: "valid_until", Rule: RuleAfter}},
		{"an end past the law's maximum", Tutelle, func(_ *memWorld, m Representation, c *MeasureCorrection) {
			c.ValidUntil = m.ValidFrom.AddDate(11, 0, 0)
		}, InvalidError{Field: "valid_until", Rule: RuleMaxYears, Limit: 10}},
		{"a start removed", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.ValidFrom = time.Time{}
		}, InvalidError{Field: "valid_from", Rule: RuleRequired}},
		{"an unknown area", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Areas = []Area{"astrologie"}
		}, InvalidError{Field: "procedure_areas", Rule: RuleUnknown}},
		{"a decision without its number", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Decision.Reference = ""
		}, InvalidError{Field: "decision_reference", Rule: RuleRequired}},
		{"a decision without its court", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Decision.Jurisdiction = " "
		}, InvalidError{Field: "decision_jurisdiction", Rule: RuleRequired}},
		{"a court name longer than the limit", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Decision.Jurisdiction = strings.Repeat("x", MaxJurisdiction+1)
		}, InvalidError{Field: "decision_jurisdiction", Rule: RuleTooLong, Limit: MaxJurisdiction}},
		{"a decision without its date", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Decision.Date = time.Time{}
		}, InvalidError{Field: "decision_date", Rule: RuleRequired}},
		{"a role of another kind", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Representative.Role = RoleCurateur
		}, InvalidError{Field: "role", Rule: RuleForbidden, Index: 1}},
		{"the person as her own representative", Tutelle, func(w *memWorld, _ Representation, c *MeasureCorrection) {
			c.Representative.PersonID = w.jane
		}, InvalidError{Field: "representative", Rule: RuleSelf, Index: 1}},
		{"a person and an organisation at once", Tutelle, func(w *memWorld, _ Representation, c *MeasureCorrection) {
			c.Representative.OrganisationID = w.org("Service mandataire")
		}, InvalidError{Field: "representative", Rule: RuleBoth, Index: 1}},
		{"no representative", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Representative.PersonID = ""
		}, InvalidError{Field: "representative", Rule: RuleRequired, Index: 1}},
		{"a representative without an account", Tutelle, func(w *memWorld, _ Representation, c *MeasureCorrection) {
			c.Representative.PersonID = NewID(w.clock.Add(time.Hour))
		}, InvalidError{Field: "representative", Rule: RuleUnknown, Index: 1}},
		{"an organisation that does not exist", Tutelle, func(w *memWorld, _ Representation, c *MeasureCorrection) {
			c.Representative.PersonID, c.Representative.OrganisationID = "", NewID(w.clock.Add(time.Hour))
		}, InvalidError{Field: "organisation", Rule: RuleUnknown, Index: 1}},
		{"a sauvegarde left without the acts of its mandataire spécial", SauvegardeJustice, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Adjustments = nil
		}, InvalidError{Field: "adjustments", Rule: RuleNamedActs}},
		{"an adjustment of a strictly personal act", Tutelle, func(_ *memWorld, _ Representation, c *MeasureCorrection) {
			c.Adjustments = []Adjustment{{Party: PartyRepresentative, Action: Personal, Decision: Allowed}}
		}, InvalidError{Field: "adjustments.action", Rule: RuleForbidden, Index: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			in := w.measureInput(tt.kind, w.jane, w.person("Marie", "Martin"), RoleTuteur)
			if tt.kind == SauvegardeJustice {
				in.Representatives[0].Role, in.ValidUntil = RoleMandataireSpecial, w.clock.AddDate(0, 6, 0)
			}
			reps, err := w.svc.RegisterMeasure(w.ctx, w.op, in)
			if err != nil {
				t.Fatal(err)
			}
			m := reps[0]
			c := CorrectionOf(&m)
			c.Reason = "erreur de saisie"
			tt.correct(w, m, &c)
			events := len(w.st.events)
			_, err = w.svc.CorrectMeasure(w.ctx, w.op, m.ID, m.Version, c)
			var inv *InvalidError
			if !errors.As(err, &inv) || *inv != tt.want {
				t.Fatalf("CorrectMeasure = %v, want %+v", err, tt.want)
			}
			if got := w.stored(m.ID); got.Version != m.Version || len(w.st.events) != events || len(w.st.reps) != 1 {
				t.Errorf("a refused correction changed something: version %d, %d events, %d representations", got.Version, len(w.st.events)-events, len(w.st.reps))
			}
		})
	}
}

func TestACorrectionIsRefusedWhenTheMeasureMayNotBeCorrected(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	marie := w.person("Marie", "Martin")
	m := w.measure(Tutelle, w.jane, marie, RoleTuteur)
	other := w.measure(Tutelle, w.person("Paul", "Durand"), marie, RoleTuteur)
	later := func(c MeasureCorrection) MeasureCorrection {
		c.ValidUntil, c.Reason = c.ValidUntil.AddDate(0, 1, 0), "erreur de saisie"
		return c
	}
	tests := []struct {
		name    string
		actor   Actor
		id      string
		version int64
		c       MeasureCorrection
		want    error
	}{
		{"by someone who is not an operator", Actor{PersonID: marie}, m.ID, m.Version, later(CorrectionOf(&m)), ErrNotPermitted},
		{"from a form built on another version", w.op, m.ID, m.Version + 1, later(CorrectionOf(&m)), ErrConflict},
		{"of an unknown representation", w.op, NewID(w.clock.Add(time.Hour)), 0, later(CorrectionOf(&m)), ErrNotFound},
		{"to the number and court of another registered decision, typed differently", w.op, m.ID, m.Version, func() MeasureCorrection {
			c := CorrectionOf(&m)
			c.Reason = "erreur de numéro"
			c.Decision.Reference = "  " + strings.ToLower(other.Source.Decision.Reference)
			c.Decision.Jurisdiction = strings.ToUpper(other.Source.Decision.Jurisdiction)
			return c
		}(), ErrAlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := len(w.st.events)
			_, err := w.svc.CorrectMeasure(w.ctx, tt.actor, tt.id, tt.version, tt.c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("CorrectMeasure = %v, want %v", err, tt.want)
			}
			if got := w.stored(m.ID); got.Version != m.Version || len(w.st.events) != events {
				t.Errorf("a refused correction changed something: version %d, %d events", got.Version, len(w.st.events)-events)
			}
		})
	}
	var unique *UniqueError
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, m.ID, m.Version, tests[3].c); !errors.As(err, &unique) || unique.Field != "decision" {
		t.Errorf("a collision is %v, want the UniqueError of the decision", err)
	}
	ended, err := w.svc.End(w.ctx, w.op, other.ID, other.Version, "mainlevée")
	if err != nil {
		t.Fatal(err)
	}
	var te *TransitionError
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, ended.ID, ended.Version, later(CorrectionOf(&ended))); !errors.As(err, &te) || te.Blocker != AlreadyOver {
		t.Errorf("correcting an ended measure = %v, want the AlreadyOver TransitionError", err)
	}
}

func TestCorrectingTheRepresentativeEndsTheWrongOneAndCreatesTheRightOne(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	marie, paul := w.person("Marie", "Martin"), w.person("Paul", "Durand")
	m := w.measure(Tutelle, w.jane, marie, RoleTuteur)
	at := w.clock
	if _, err := w.svc.Usable(w.ctx, Actor{PersonID: marie}, m.ID, at); err != nil {
		t.Fatalf("Marie's tutelle before the correction: %v", err)
	}
	c := CorrectionOf(&m)
	c.Representative.PersonID, c.Reason = paul, "la décision nomme Paul Durand"
	events := len(w.st.events)
	r, err := w.svc.CorrectMeasure(w.ctx, w.op, m.ID, m.Version, c)
	if err != nil {
		t.Fatal(err)
	}
	old := w.stored(m.ID)
	last := old.History[len(old.History)-1]
	if old.Status != StatusRevoked || last.To != StatusRevoked || last.From != StatusActive || last.Type != EventUpdated || last.Detail["replaced_by"] != r.ID || last.Detail["reason"] != c.Reason ||
		last.Detail["fields"] != "representative" || old.Representative.PersonID != marie {
		t.Errorf("Marie's representation: %s, last change %+v; want it ended by the correction, naming the new one", old.Status, last)
	}
	first := r.History[0]
	if r.ID == m.ID || r.Representative.PersonID != paul || r.Status != StatusActive || r.Kind != Tutelle || r.Role != RoleTuteur ||
		r.Source.Decision.Key() != m.Source.Decision.Key() || len(r.History) != 1 || first.Type != EventCreated ||
		first.Detail["replaces"] != m.ID || first.Detail["reason"] != c.Reason || first.ActorID != w.op.PersonID {
		t.Errorf("the corrected representation %+v", r)
	}
	var types []EventType
	for _, e := range w.st.events[events:] {
		types = append(types, e.Type)
		if e.PersonID != w.jane || e.Detail["reason"] != c.Reason || len(e.Areas) != len(Areas) {
			t.Errorf("journaled %+v, want it in Jeanne's journal, with the reason, naming every area", e)
		}
	}
	if !slices.Equal(types, []EventType{EventUpdated, EventCreated}) {
		t.Errorf("journaled %v, want the end by correction then the creation", types)
	}
	if _, err := w.svc.Usable(w.ctx, Actor{PersonID: marie}, m.ID, at); !errors.Is(err, ErrInactive) {
		t.Errorf("Marie acting after the correction: %v, want ErrInactive", err)
	}
	if _, err := w.svc.Usable(w.ctx, Actor{PersonID: paul}, r.ID, at); err != nil {
		t.Errorf("Paul acting after the correction: %v", err)
	}
	if got, err := w.svc.Representation(w.ctx, marie, m.ID); err != nil || got.History[len(got.History)-1].Detail["reason"] != c.Reason {
		t.Errorf("Marie reads her ended representation: %v, want it with the reason", err)
	}
	if _, err := w.svc.Representation(w.ctx, paul, r.ID); err != nil {
		t.Errorf("Paul reads his: %v", err)
	}
	back := CorrectionOf(&r)
	back.Representative.PersonID, back.Reason = marie, "retour"
	var inv *InvalidError
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, r.ID, r.Version, back); !errors.As(err, &inv) || inv.Field != "representatives" || inv.Rule != RuleDuplicate {
		t.Errorf("naming Marie again under the same decision = %v, want representatives duplicate", err)
	}
	org := w.org("Service mandataire Entraide Nord")
	toOrg := CorrectionOf(&r)
	toOrg.Representative.PersonID, toOrg.Representative.OrganisationID, toOrg.Reason = "", org, "la décision nomme le service"
	byOrg, err := w.svc.CorrectMeasure(w.ctx, w.op, r.ID, r.Version, toOrg)
	if err != nil || byOrg.Representative.OrganisationID != org || byOrg.Representative.PersonID != "" {
		t.Errorf("a service named instead of Paul: %+v, %v", byOrg.Representative, err)
	}
}

func TestCorrectingTheDecisionCorrectsEveryRepresentativeItNames(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	marie, paul := w.person("Marie", "Martin"), w.person("Paul", "Durand")
	in := w.measureInput(Tutelle, w.jane, marie, RoleTuteurPersonne)
	in.Representatives = append(in.Representatives, RepresentativeInput{PersonID: paul, Role: RoleTuteurBiens, Areas: []Area{"argent"}})
	reps, err := w.svc.RegisterMeasure(w.ctx, w.op, in)
	if err != nil {
		t.Fatal(err)
	}
	c := CorrectionOf(&reps[0])
	c.Decision.Reference, c.ValidUntil, c.Reason = "RG 27/04242", c.ValidUntil.AddDate(1, 0, 0), "numéro mal recopié"
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, reps[0].ID, reps[0].Version, c); err != nil {
		t.Fatal(err)
	}
	first, second := w.stored(reps[0].ID), w.stored(reps[1].ID)
	if first.Source.Decision.Reference != "RG 27/04242" || second.Source.Decision.Reference != "RG 27/04242" {
		t.Errorf("references %q and %q, want both corrected", first.Source.Decision.Reference, second.Source.Decision.Reference)
	}
	if h := second.History[len(second.History)-1]; h.Type != EventUpdated || h.Detail["fields"] != "decision_reference" || h.Detail["reason"] != c.Reason {
		t.Errorf("Paul's history: %+v, want the decision's correction with its reason", h)
	}
	if !second.ValidUntil.Equal(reps[1].ValidUntil) || !slices.Equal(second.Areas, []Area{"argent"}) {
		t.Errorf("Paul's own end or areas changed: %s %v", second.ValidUntil, second.Areas)
	}
	if others, err := w.svc.CoRepresentatives(w.ctx, w.op, first); err != nil || len(others) != 1 || others[0].ID != second.ID {
		t.Errorf("co-representatives after the correction: %v %v", others, err)
	}
	if taken, _ := w.st.DecisionRegistered(w.ctx, reps[0].Source.Decision.Key()); taken {
		t.Error("the wrong number still counts as registered")
	}
	var areas [][]Area
	for _, e := range w.st.events[len(w.st.events)-2:] {
		areas = append(areas, e.Areas)
	}
	if !slices.Equal(areas[0], []Area{"argent"}) || len(areas[1]) != len(Areas) {
		t.Errorf("journaled areas %v, want Paul's areas, then every area for Marie's", areas)
	}
}

func TestACorrectionsJournalEntryNamesTheAreasBeforeAndAfter(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	in := w.measureInput(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
	in.Areas = []Area{"logement"}
	reps, err := w.svc.RegisterMeasure(w.ctx, w.op, in)
	if err != nil {
		t.Fatal(err)
	}
	c := CorrectionOf(&reps[0])
	c.Areas, c.Reason = []Area{"social"}, "domaine mal recopié"
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, reps[0].ID, reps[0].Version, c); err != nil {
		t.Fatal(err)
	}
	e := w.st.events[len(w.st.events)-1]
	if want := SortAreas([]Area{"social", "logement"}); !slices.Equal(e.Areas, want) {
		t.Errorf("journaled areas %v, want %v: who reads either area reads the correction", e.Areas, want)
	}
}

func TestOnlyMeasuresAreEditedByAnOperator(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	holder := w.person("Ahmed", "Benali")
	p, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, ProxyInput{HolderID: holder, Areas: []Area{"social"}, Granted: []Action{Consult}, Duration: OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	c := CorrectionOf(&p)
	c.ValidUntil, c.Reason = p.ValidUntil.AddDate(0, 1, 0), "erreur"
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, p.ID, 0, c); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("CorrectMeasure of a proxy = %v, want ErrNotPermitted", err)
	}
}

func TestAMovedEndIsRecordedAgainWhenItPasses(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	m := w.measure(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
	w.advance(m.ValidUntil.Sub(w.clock) + time.Hour)
	if n, err := w.svc.RecordExpiries(w.ctx, 0); err != nil || n != 1 {
		t.Fatalf("RecordExpiries = %d, %v; want 1", n, err)
	}
	if n, err := w.svc.RecordExpiries(w.ctx, 0); err != nil || n != 0 {
		t.Fatalf("RecordExpiries again = %d, %v; want nothing more", n, err)
	}
	r := w.stored(m.ID)
	c := CorrectionOf(&r)
	c.ValidUntil, c.Reason = r.ValidUntil.AddDate(0, 1, 0), "jugement de prolongation"
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, m.ID, r.Version, c); err != nil {
		t.Fatal(err)
	}
	if r = w.stored(m.ID); r.EffectiveStatus(w.clock) != StatusActive {
		t.Fatalf("status %s after the end moved, want active", r.EffectiveStatus(w.clock))
	}
	w.advance(31 * 24 * time.Hour)
	if n, err := w.svc.RecordExpiries(w.ctx, 10); err != nil || n != 1 {
		t.Fatalf("RecordExpiries at the new end = %d, %v; want 1", n, err)
	}
	var expiries int
	for _, e := range w.st.events {
		if e.Type == EventExpired {
			expiries++
		}
	}
	if expiries != 2 {
		t.Errorf("%d expiries journaled, want one per end", expiries)
	}
}

func TestAMeasureWithoutItsDecisionIsNotCorrectedButRefused(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	m := w.measure(Tutelle, w.person("Jeanne", "Lefèvre"), w.person("Marie", "Martin"), RoleTuteur)
	// A record whose decision was lost (the domain never writes one, but
	// nothing in a stored row guarantees it): no panic, a typed refusal.
	rec := w.st.reps[m.ID]
	rec.Source.Decision = nil
	w.st.reps[m.ID] = rec
	c := CorrectionOf(&m)
	c.Reason = "jugement rectificatif"
	c.ValidUntil = m.ValidUntil.AddDate(0, 1, 0)
	_, err := w.svc.CorrectMeasure(w.ctx, w.op, m.ID, 0, c)
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Field != "decision" || inv.Rule != RuleRequired {
		t.Errorf("CorrectMeasure of a record without its decision: %v, want an InvalidError on decision", err)
	}
}
