package mandates

import (
	"errors"
	"slices"
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

func TestEditingAMeasure(t *testing.T) {
	adj := []Adjustment{{Party: PartyPerson, Area: "argent", Action: Manage, Decision: Allowed}}
	tests := []struct {
		name   string
		edit   func(m Representation) MeasureEdit
		fields string
		err    error
	}{
		{"a new end is recorded", func(m Representation) MeasureEdit {
			return MeasureEdit{ValidUntil: m.ValidUntil.AddDate(0, 6, 0)}
		}, "valid_until", nil},
		{"areas and adjustments are recorded together", func(m Representation) MeasureEdit {
			return MeasureEdit{ValidUntil: m.ValidUntil, Areas: []Area{"argent", "social"}, Adjustments: adj}
		}, "procedure_areas adjustments", nil},
		{"an edit that changes nothing is refused", func(m Representation) MeasureEdit { return MeasureEdit{ValidUntil: m.ValidUntil} }, "", ErrInvalid},
		{"an end before the start is refused", func(m Representation) MeasureEdit {
			return MeasureEdit{ValidUntil: m.ValidFrom.AddDate(0, 0, -1)}
		}, "", ErrInvalid},
		{"an unknown area is refused", func(m Representation) MeasureEdit {
			return MeasureEdit{ValidUntil: m.ValidUntil, Areas: []Area{"astrologie"}}
		}, "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			m := w.measure(Tutelle, w.jane, w.person("Marie", "Martin"), RoleTuteur)
			r, err := w.svc.EditMeasure(w.ctx, w.op, m.ID, m.Version, tt.edit(m))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("EditMeasure = %v, want %v", err, tt.err)
				}
				if got := w.stored(m.ID); got.Version != m.Version {
					t.Errorf("a refused edit changed the version to %d", got.Version)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			last := r.History[len(r.History)-1]
			if last.Type != EventUpdated || last.Detail["fields"] != tt.fields {
				t.Errorf("last change %+v, want an update of %q", last, tt.fields)
			}
		})
	}
}

func TestOnlyMeasuresAreEditedByAnOperator(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	holder := w.person("Ahmed", "Benali")
	p, err := w.svc.GiveProxy(w.ctx, Actor{PersonID: w.jane}, ProxyInput{HolderID: holder, Areas: []Area{"social"}, Granted: []Action{Consult}, Duration: OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.EditMeasure(w.ctx, w.op, p.ID, 0, MeasureEdit{ValidUntil: p.ValidUntil.AddDate(0, 1, 0)}); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("EditMeasure of a proxy = %v, want ErrNotPermitted", err)
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
	if _, err := w.svc.EditMeasure(w.ctx, w.op, m.ID, r.Version, MeasureEdit{ValidUntil: r.ValidUntil.AddDate(0, 1, 0)}); err != nil {
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
