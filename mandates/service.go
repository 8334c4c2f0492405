package mandates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Actor is who asks for a change: a logged-in person, and whether their
// login used a second factor (aidants must).
type Actor struct {
	PersonID     string
	SecondFactor bool
}

// CodeSender sends a consent code to a person's phone. Relais's deployment
// supplies one (an SMS gateway); without it, remote consent is unavailable.
type CodeSender interface {
	SendConsentCode(ctx context.Context, to Person, code string) error
}

// RequestCodeSender is a CodeSender that is also given the request the
// code answers, so its text can say who asks what (« France Services
// Nantes demande un mandat pour vos démarches : papiers, 12 mois. Code :
// 123456 »). SendConsentCode calls it instead when the CodeSender has it.
type RequestCodeSender interface {
	SendRequestCode(ctx context.Context, to Person, r Representation, code string) error
}

// ServiceConfig tunes a Service; zero fields take the defaults.
type ServiceConfig struct {
	Policy *Policy          // default: DefaultPolicy()
	Now    func() time.Time // default: time.Now
	// Recorder records the events of acts that change nothing stored
	// (access evaluations). Default: the service's event sink, each in a
	// transaction of its own.
	Recorder EventRecorder
	Codes    CodeSender // default: none (remote consent unavailable)
	// CodeTTL is how long a consent code can be used. Default 10 minutes.
	CodeTTL time.Duration
	// MaxCodeAttempts wrong codes cancel the request. Default 3.
	MaxCodeAttempts int
	// MaxCodesSent bounds how many codes one request may send. Default 3.
	MaxCodesSent int
}

// Service is every operation on representations, organisations and
// consents, with the rule of who may do it. Each change runs in one
// transaction with its history entry and its domain event.
type Service struct {
	store  Store
	events EventSink
	cfg    ServiceConfig
}

// NewService builds the service over a store, journaling every change in
// events (DESIGN.md §5: every act is an event). The sink is required: a
// service that dropped its events would be an audit trail with holes, so
// a nil sink is a wiring mistake and panics at start. Tests that do not
// read the journal pass mandatestest.Discard.
func NewService(st Store, events EventSink, cfg ServiceConfig) *Service {
	if events == nil {
		panic("mandates: NewService needs an event sink")
	}
	if cfg.Policy == nil {
		cfg.Policy = DefaultPolicy()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = 10 * time.Minute
	}
	if cfg.MaxCodeAttempts <= 0 {
		cfg.MaxCodeAttempts = 3
	}
	if cfg.MaxCodesSent <= 0 {
		cfg.MaxCodesSent = 3
	}
	return &Service{store: st, events: events, cfg: cfg}
}

// Policy is the policy the service decides with.
func (s *Service) Policy() *Policy { return s.cfg.Policy }

// RemoteConsent says whether codes can be sent to phones.
func (s *Service) RemoteConsent() bool { return s.cfg.Codes != nil }

// CodeTTL is how long a consent code can be used, for the pages that say
// so to the aidant who reads it to the person.
func (s *Service) CodeTTL() time.Duration { return s.cfg.CodeTTL }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) emit(ctx context.Context, e Event) error {
	if err := s.events.Emit(ctx, e); err != nil {
		return fmt.Errorf("record event %s: %w", e.Type, err)
	}
	return nil
}

// record stores an event of an act that changed nothing stored.
func (s *Service) record(ctx context.Context, e Event) error {
	var err error
	if s.cfg.Recorder != nil {
		err = s.cfg.Recorder.Record(ctx, e)
	} else {
		err = s.store.InTx(ctx, func(ctx context.Context) error { return s.events.Emit(ctx, e) })
	}
	if err != nil {
		return fmt.Errorf("record event %s: %w", e.Type, err)
	}
	return nil
}

// create writes a new representation with its first history entry and
// event, inside the caller's transaction, and returns it as stored (with
// its version and history).
func (s *Service) create(ctx context.Context, r Representation, actor, org string) (Representation, error) {
	c := Change{Seq: 1, At: s.now(), ActorID: actor, OrganisationID: org, Type: EventCreated, To: r.Status}
	if err := s.store.CreateRepresentation(ctx, r, c); err != nil {
		return r, err
	}
	if err := s.emit(ctx, eventOf(&r, c)); err != nil {
		return r, err
	}
	return s.store.Representation(ctx, r.ID)
}

// change applies fn to the stored representation in one transaction,
// checks the caller's version (0: any), appends fn's change to the history
// and emits it.
func (s *Service) change(ctx context.Context, id string, version int64, fn func(*Representation) (Change, error)) (Representation, error) {
	var out Representation
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var last Change
		r, err := s.store.UpdateRepresentation(ctx, id, func(r *Representation) (Change, error) {
			if version != 0 && r.Version != version {
				return Change{}, fmt.Errorf("%w: the representation changed since it was read (version %d, now %d)", ErrConflict, version, r.Version)
			}
			c, err := fn(r)
			if err != nil {
				return c, err
			}
			c.At = s.now()
			last = c
			return c, nil
		})
		if err != nil {
			return err
		}
		if n := len(r.History); n > 0 {
			last = r.History[n-1]
		}
		out = r
		return s.emit(ctx, eventOf(&r, last))
	})
	if err != nil {
		return Representation{}, fmt.Errorf("representation %s: %w", id, err)
	}
	return out, nil
}

func (s *Service) isOperator(ctx context.Context, personID string) (bool, error) {
	if !IsID(personID) {
		return false, nil
	}
	return s.store.HasRole(ctx, personID, RoleOperator)
}

func (s *Service) requireOperator(ctx context.Context, a Actor) error {
	ok, err := s.isOperator(ctx, a.PersonID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: only an operator may do this", ErrNotPermitted)
	}
	return nil
}

// IsOperator says whether the person holds the operator role.
func (s *Service) IsOperator(ctx context.Context, personID string) (bool, error) {
	return s.isOperator(ctx, personID)
}

// personExists turns an unknown person into ErrInvalid naming the field.
func (s *Service) personExists(ctx context.Context, field, id string) (Person, error) {
	if !IsID(id) {
		return Person{}, invalid(field, RuleFormat)
	}
	p, err := s.store.Person(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return p, invalid(field, RuleUnknown)
	}
	return p, err
}

// Decide answers a question with the store's facts at q.At.
func (s *Service) Decide(ctx context.Context, q Question) (Answer, error) {
	if q.At.IsZero() {
		q.At = s.cfg.Now()
	}
	f, err := s.facts(ctx, q)
	if err != nil {
		return Answer{}, err
	}
	return s.cfg.Policy.Decide(q, f)
}

// AreasAllowed says in which procedure areas the policy allows q's act
// through a representation (q.Area is ignored), reading the facts once:
// where a page asks the same question of every area. The actor is a, as
// their login proves them (q.ActorID is set to a.PersonID): a
// representation held through an organisation counts only when that login
// used a second factor (DESIGN.md §4), an enrolment alone is not enough.
// When nothing is allowed and a second factor would change that, the
// answer is ErrSecondFactor, so the page can say what to do.
func (s *Service) AreasAllowed(ctx context.Context, a Actor, q Question) ([]Area, error) {
	q.ActorID = a.PersonID
	if q.At.IsZero() {
		q.At = s.cfg.Now()
	}
	f, err := s.facts(ctx, q)
	if err != nil {
		return nil, err
	}
	f.ActorSecondFactor = f.ActorSecondFactor && a.SecondFactor
	out, err := s.areasAllowed(q, f)
	if err != nil || len(out) > 0 || f.ActorSecondFactor {
		return out, err
	}
	f.ActorSecondFactor = true
	if with, err := s.areasAllowed(q, f); err != nil || len(with) == 0 {
		return nil, err
	}
	return nil, fmt.Errorf("areas of %s for %s: %w", q.PersonID, q.ActorID, ErrSecondFactor)
}

func (s *Service) areasAllowed(q Question, f Facts) ([]Area, error) {
	var out []Area
	for _, area := range Areas {
		q.Area = area
		a, err := s.cfg.Policy.Decide(q, f)
		if err != nil {
			return nil, err
		}
		if a.Decision == Allowed && a.Representation != nil {
			out = append(out, area)
		}
	}
	return out, nil
}

// facts are what deciding q reads from the store.
func (s *Service) facts(ctx context.Context, q Question) (Facts, error) {
	if !IsID(q.PersonID) || !IsID(q.ActorID) {
		return Facts{}, nil
	}
	actor := q.ActorID
	if actor == q.PersonID {
		actor = "" // acting for oneself: no membership counts
	}
	return s.store.DecisionFacts(ctx, q.PersonID, actor)
}

// Representation returns one representation, with its history, to someone
// who may see it: the person, the representative (or a member of the
// organisation holding it), or an operator. Anyone else gets ErrNotFound,
// so nobody learns who has a representation.
func (s *Service) Representation(ctx context.Context, viewer, id string) (Representation, error) {
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return r, err
	}
	ok, err := s.maySee(ctx, viewer, &r)
	if err != nil {
		return Representation{}, err
	}
	if !ok {
		return Representation{}, fmt.Errorf("representation %s: %w", id, ErrNotFound)
	}
	return r, nil
}

func (s *Service) maySee(ctx context.Context, viewer string, r *Representation) (bool, error) {
	if !IsID(viewer) {
		// Nobody: an organisation's representation has no person
		// representative, and "" must not match it.
		return false, nil
	}
	if viewer == r.PersonID || viewer == r.Representative.PersonID {
		return true, nil
	}
	if org := r.Representative.OrganisationID; org != "" {
		m, err := s.store.Membership(ctx, org, viewer)
		if err == nil && m.Active {
			return true, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
	}
	return s.isOperator(ctx, viewer)
}

// View is a representation with the names a page shows.
type View struct {
	Representation
	Status           Status // at the time of reading
	PersonName       string
	RepresentativeOf string // the representative: a person's name, or the organisation's
	// RepresentativeGender is the representative's gender, when a person
	// holds it and Relais knows it: pages name the role with it (« tutrice »).
	RepresentativeGender Gender
	Organisation         *Organisation
	Delegates            []string // names of the delegates, if any
	Actions              map[Action]Decision
	PersonActions        map[Action]Decision // what the person may do alone under it
	// Limits are, for a mandate or a proxy that Usable returns, the
	// measures over the person in force at LimitsAt: what it allows never
	// goes beyond what they leave (Policy.Allows).
	Limits   []Representation
	LimitsAt time.Time
}

// Describe adds names and the effective status to representations.
func (s *Service) Describe(ctx context.Context, reps []Representation) ([]View, error) {
	return s.describe(ctx, reps, s.cfg.Now(), map[string][]Representation{})
}

// describe is Describe at now, with the representations of the people
// already read (by person id), which it completes: what a mandate or a
// proxy allows is capped by the measures over its person (Policy.Allows).
func (s *Service) describe(ctx context.Context, reps []Representation, now time.Time, of map[string][]Representation) ([]View, error) {
	names, genders := map[string]string{}, map[string]Gender{}
	name := func(id string) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		p, err := s.store.Person(ctx, id)
		if err != nil {
			return "", err
		}
		names[id], genders[id] = DisplayName(p), p.Gender
		return names[id], nil
	}
	orgs := map[string]*Organisation{}
	out := make([]View, 0, len(reps))
	for _, r := range reps {
		v := View{Representation: r, Status: r.EffectiveStatus(now), Actions: map[Action]Decision{}, PersonActions: map[Action]Decision{}}
		var err error
		if v.PersonName, err = name(r.PersonID); err != nil {
			return nil, err
		}
		if id := r.Representative.PersonID; id != "" {
			if v.RepresentativeOf, err = name(id); err != nil {
				return nil, err
			}
			v.RepresentativeGender = genders[id]
		}
		if id := r.Representative.OrganisationID; id != "" {
			o, ok := orgs[id]
			if !ok {
				org, err := s.store.Organisation(ctx, id)
				if err != nil {
					return nil, err
				}
				o = &org
				orgs[id] = o
			}
			v.Organisation, v.RepresentativeOf = o, o.Name
		}
		for _, d := range r.Representative.Delegates {
			n, err := name(d)
			if err != nil {
				return nil, err
			}
			v.Delegates = append(v.Delegates, n)
		}
		if !r.Kind.IsMeasure() {
			all, ok := of[r.PersonID]
			if !ok {
				if all, err = s.store.RepresentationsOf(ctx, r.PersonID); err != nil {
					return nil, err
				}
				of[r.PersonID] = all
			}
			v.Limits = slices.DeleteFunc(slices.Clone(all), func(m Representation) bool { return !m.Kind.IsMeasure() || !m.ActiveAt(now) })
			v.LimitsAt = now
		}
		for _, a := range []Action{Consult, Manage, Dispose} {
			v.Actions[a] = s.cfg.Policy.Allows(&v, a, "")
			v.PersonActions[a] = s.cfg.Policy.PersonDecision(&r, a, "")
		}
		out = append(out, v)
	}
	return out, nil
}

// DisplayName is the one name of a person on every page, token and
// letter (issue 17): the first given name (the prénom usuel), then the name
// in use (the nom d'usage when there is one, else the birth name):
// « Marie Martin », never « Marie Claire Lefèvre ». Where an operator must
// identify a person, the civil identity is shown field by field instead.
func DisplayName(p Person) string {
	family := strings.TrimSpace(p.FamilyName)
	if preferred := strings.TrimSpace(p.PreferredName); preferred != "" {
		family = preferred
	}
	given := strings.Fields(p.GivenNames)
	if len(given) == 0 {
		return family
	}
	return given[0] + " " + family
}

// Of lists the representations of the person, with names: "who may act
// for me?".
func (s *Service) Of(ctx context.Context, personID string) ([]View, error) {
	reps, err := s.store.RepresentationsOf(ctx, personID)
	if err != nil {
		return nil, err
	}
	return s.describe(ctx, reps, s.cfg.Now(), map[string][]Representation{personID: reps})
}

// For lists the representations the actor may use or accept, in their own
// name or through an organisation that habilitates them and names them (or
// nobody in particular): "for whom do I act?".
func (s *Service) For(ctx context.Context, actorID string) ([]View, error) {
	ms, err := s.store.MembershipsOf(ctx, actorID)
	if err != nil {
		return nil, err
	}
	var orgs []string
	for _, m := range ms {
		if m.Active {
			orgs = append(orgs, m.OrganisationID)
		}
	}
	reps, err := s.store.RepresentationsBy(ctx, actorID, orgs)
	if err != nil {
		return nil, err
	}
	reps = slices.DeleteFunc(reps, func(r Representation) bool {
		d := r.Representative.Delegates
		return r.Representative.IsOrganisation() && len(d) > 0 && !slices.Contains(d, actorID)
	})
	return s.Describe(ctx, reps)
}

// SearchMeasures is the operator's search over registered measures.
func (s *Service) SearchMeasures(ctx context.Context, op Actor, query string) ([]View, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return nil, err
	}
	reps, err := s.store.SearchMeasures(ctx, query, 50)
	if err != nil {
		return nil, err
	}
	return s.Describe(ctx, reps)
}

// CoRepresentatives lists, with names, the other representations that
// rest on the same court decision as r (the other representatives it
// names), for an operator; none for a representation without a decision.
func (s *Service) CoRepresentatives(ctx context.Context, op Actor, r Representation) ([]View, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return nil, err
	}
	d := r.Source.Decision
	if d == nil {
		return nil, nil
	}
	reps, err := s.store.RepresentationsByDecision(ctx, d.Key())
	if err != nil {
		return nil, err
	}
	reps = slices.DeleteFunc(reps, func(o Representation) bool { return o.ID == r.ID })
	return s.Describe(ctx, reps)
}

// PersonByEmail finds the account a form names by its email address
// (ErrNotFound when none has it).
func (s *Service) PersonByEmail(ctx context.Context, email string) (Person, error) {
	return s.store.PersonByEmail(ctx, email)
}

// Person reads one account.
func (s *Service) Person(ctx context.Context, id string) (Person, error) {
	return s.store.Person(ctx, id)
}

// Usable returns the representation, with names, when the actor may use it
// at `at`: in force, and held by the actor (in their own name, or as an
// active and designated member of the organisation holding it, logged in
// with a second factor). Otherwise ErrNotFound when it is not the actor's,
// ErrSecondFactor when only the second factor is missing, or ErrInactive
// wrapping the reason. Tokens are checked with it at every use, so a
// suspension, a withdrawal or the end date stops them at once.
func (s *Service) Usable(ctx context.Context, a Actor, id string, at time.Time) (View, error) {
	actorID := a.PersonID
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return View{}, err
	}
	var ms []Membership
	if r.Representative.IsOrganisation() {
		if ms, err = s.store.MembershipsOf(ctx, actorID); err != nil {
			return View{}, err
		}
	}
	ok, why := s.cfg.Policy.holds(&r, a, at, ms)
	if !ok {
		if why == (Reason{}) {
			return View{}, fmt.Errorf("representation %s: %w", id, ErrNotFound)
		}
		if why.Code == ReasonSecondFactor {
			return View{}, fmt.Errorf("representation %s: %w", id, ErrSecondFactor)
		}
		return View{}, fmt.Errorf("%w: %s", ErrInactive, why.Code)
	}
	of := map[string][]Representation{}
	if !r.Kind.IsMeasure() {
		// A mandate or proxy a tutor gave ends with the tutelle; its claims
		// say what it allows under the measures over the person.
		all, err := s.store.RepresentationsOf(ctx, r.PersonID)
		if err != nil {
			return View{}, err
		}
		if why := s.cfg.Policy.basisEnded(&r, all, at); why != (Reason{}) {
			return View{}, fmt.Errorf("%w: %s", ErrInactive, why.Code)
		}
		of[r.PersonID] = all
	}
	vs, err := s.describe(ctx, []Representation{r}, at, of)
	if err != nil {
		return View{}, err
	}
	return vs[0], nil
}

// Protection lists the court measures in force over the person at `at`,
// with what each leaves them to do alone: what a site learns with the
// protection scope.
func (s *Service) Protection(ctx context.Context, personID string, at time.Time) ([]View, error) {
	reps, err := s.store.RepresentationsOf(ctx, personID)
	if err != nil {
		return nil, err
	}
	reps = slices.DeleteFunc(reps, func(r Representation) bool { return !r.Kind.IsMeasure() || !r.ActiveAt(at) })
	return s.Describe(ctx, reps)
}
