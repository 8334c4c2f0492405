package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
)

// operatorPages are the operator's back-office pages.
type operatorPages struct{ *Server }

// The operator's pages: search over registered measures, registration of
// a court measure from the decision, one measure with its history and the
// forms that change it, and the organisations. Anyone who is not an
// operator gets the 404 page: nobody learns these pages exist.
func (s *operatorPages) mountOperator(pages *mux.Router) {
	pages.HandleFunc("/operateur", s.page(s.operatorHome)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/mesures/nouvelle", s.page(s.newMeasureForm)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/mesures/nouvelle", s.page(s.registerMeasure)).Methods(http.MethodPost)
	pages.HandleFunc("/operateur/mesures/{id}", s.page(s.measurePage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/mesures/{id}/{action:activer|pause|reprise|fin|modifier}", s.page(s.changeMeasure)).Methods(http.MethodPost)
	pages.HandleFunc("/operateur/structures", s.page(s.organisationsPage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/structures", s.page(s.createOrganisation)).Methods(http.MethodPost)
}

// operatorOnly is the signed-in operator; anyone else gets the login page
// or the 404 page.
func (s *Server) operatorOnly(r *http.Request) (authz.BrowserSession, error) {
	sess, err := s.requireSession(r)
	if err != nil {
		return sess, err
	}
	isOp, err := s.mandates.Service.IsOperator(r.Context(), sess.PersonID)
	if err != nil {
		return sess, err
	}
	if !isOp {
		return sess, statusError(http.StatusNotFound)
	}
	return sess, nil
}

func (s *Server) localizer(r *http.Request) *i18n.Localizer {
	return i18n.NewLocalizer(s.bundle, requestLang(r))
}

// problem is one entry of a form's error summary: the input it is about
// and the sentence that says what to do.
type problem struct {
	ID, Text string
}

// formProblems gathers a form's problems, one per input, in the order the
// inputs come on the page.
type formProblems struct {
	l     *i18n.Localizer
	lang  string
	order []string
	byID  map[string]string
}

func (s *Server) formProblems(r *http.Request, order ...string) *formProblems {
	return &formProblems{l: s.localizer(r), lang: requestLang(r), order: order, byID: map[string]string{}}
}

// add records the first problem of an input; data fills the message.
func (p *formProblems) add(id, msgID string, data ...any) {
	if _, seen := p.byID[id]; seen {
		return
	}
	if len(data) > 0 {
		p.byID[id] = translateData(p.l, msgID, data[0])
	} else {
		p.byID[id] = translate(p.l, msgID)
	}
}

func (p *formProblems) empty() bool { return len(p.byID) == 0 }

// list is the summary, in page order.
func (p *formProblems) list() []problem {
	var out []problem
	for _, id := range p.order {
		if t, ok := p.byID[id]; ok {
			out = append(out, problem{id, t})
		}
	}
	for id, t := range p.byID {
		if !slices.Contains(p.order, id) {
			out = append(out, problem{id, t})
		}
	}
	return out
}

// option is one choice of a select.
type option struct {
	Value string
	Label mandates.Text
}

type optionGroup struct {
	Label   mandates.Text
	Options []option
}

func measureKindOptions() []option {
	var out []option
	for _, k := range mandates.Kinds {
		if k.IsMeasure() {
			out = append(out, option{string(k), k.Label()})
		}
	}
	return out
}

// roleGroups are the roles of the court measures, grouped by the kinds
// they belong to (the curatelles share theirs, as do the two habilitations).
func roleGroups() []optionGroup {
	var out []optionGroup
	var kinds [][]mandates.Kind
	for _, k := range mandates.Kinds {
		if !k.IsMeasure() {
			continue
		}
		i := slices.IndexFunc(kinds, func(ks []mandates.Kind) bool { return slices.Equal(mandates.RolesOf[ks[0]], mandates.RolesOf[k]) })
		if i < 0 {
			kinds = append(kinds, []mandates.Kind{k})
			continue
		}
		kinds[i] = append(kinds[i], k)
	}
	for _, ks := range kinds {
		var fr, en []string
		for _, k := range ks {
			fr, en = append(fr, k.Label().FR), append(en, k.Label().EN)
		}
		g := optionGroup{Label: mandates.Text{FR: strings.Join(fr, ", "), EN: strings.Join(en, ", ")}}
		for _, role := range mandates.RolesOf[ks[0]] {
			g.Options = append(g.Options, option{string(role), role.Label()})
		}
		out = append(out, g)
	}
	return out
}

func orgKindOptions() []option {
	var out []option
	for _, k := range mandates.OrganisationKinds {
		out = append(out, option{string(k), k.Label()})
	}
	return out
}

var (
	partyOptions    = []option{{string(mandates.PartyPerson), mandates.Text{FR: "La personne protégée", EN: "The protected person"}}, {string(mandates.PartyRepresentative), mandates.Text{FR: "Le représentant", EN: "The representative"}}}
	actionOptions   = []option{{string(mandates.Consult), mandates.Consult.Label()}, {string(mandates.Manage), mandates.Manage.Label()}, {string(mandates.Dispose), mandates.Dispose.Label()}}
	decisionOptions = []option{{string(mandates.Allowed), mandates.Allowed.Label()}, {string(mandates.Cosign), mandates.Cosign.Label()}, {string(mandates.No), mandates.No.Label()}}
)

// areasOf reads checked areas; unknown codes are kept, to be refused.
func areasOf(vals []string) []mandates.Area {
	var out []mandates.Area
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, mandates.Area(v))
		}
	}
	return out
}

func validAreas(areas []mandates.Area) bool {
	return mandates.CheckAreas("procedure_areas", areas) == nil
}

// doneMessages are the notices shown after a change, by the "fait"
// parameter of the page it leads back to.
var doneMessages = map[string]string{
	"enregistree": "operator.done.registered",
	"activer":     "operator.done.activated",
	"pause":       "operator.done.suspended",
	"reprise":     "operator.done.resumed",
	"fin":         "operator.done.ended",
	"modifier":    "operator.done.edited",
	"creee":       "org.done.created",
	"habilite":    "org.done.habilitated",
	"retire":      "org.done.withdrawn",
	"delegues":    "org.done.delegates",
}

// --- Search ----------------------------------------------------------------

type operatorHomeData struct {
	Query   string
	Results []mandates.View
}

func (s *operatorPages) operatorHome(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	views, err := s.mandates.Service.SearchMeasures(r.Context(), actor(sess), q)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "operator_home", "operator.home.title", operatorHomeData{Query: q, Results: views})
	return nil
}

// --- Registering a measure ---------------------------------------------------

type repRow struct {
	N                int
	Email, Org, Role string
}

type adjRow struct {
	N                                   int
	Party, Area, Action, Decision, Note string
}

// measureForm is everything the operator typed, kept as typed so a form
// shown again with its problems loses nothing.
type measureForm struct {
	Kind, PersonEmail                     string
	Reps                                  []repRow
	Areas                                 []mandates.Area
	ValidFrom, ValidUntil                 string
	Jurisdiction, DecisionDate, Reference string
	Renewal                               bool
	Adjs                                  []adjRow
}

const (
	maxRepresentatives = 3
	maxAdjustments     = 3
)

func measureFormFrom(v url.Values) measureForm {
	f := measureForm{Kind: v.Get("kind"), PersonEmail: strings.TrimSpace(v.Get("person_email")), Areas: areasOf(v["areas"]),
		ValidFrom: strings.TrimSpace(v.Get("valid_from")), ValidUntil: strings.TrimSpace(v.Get("valid_until")),
		Jurisdiction: strings.TrimSpace(v.Get("jurisdiction")), DecisionDate: strings.TrimSpace(v.Get("decision_date")),
		Reference: strings.TrimSpace(v.Get("reference")), Renewal: v.Get("renewal") != ""}
	for i := 1; i <= maxRepresentatives; i++ {
		p := "rep" + strconv.Itoa(i) + "_"
		f.Reps = append(f.Reps, repRow{N: i, Email: strings.TrimSpace(v.Get(p + "email")), Org: v.Get(p + "org"), Role: v.Get(p + "role")})
	}
	for i := 1; i <= maxAdjustments; i++ {
		p := "adj" + strconv.Itoa(i) + "_"
		f.Adjs = append(f.Adjs, adjRow{N: i, Party: v.Get(p + "party"), Area: v.Get(p + "area"), Action: v.Get(p + "action"),
			Decision: v.Get(p + "decision"), Note: strings.TrimSpace(v.Get(p + "note"))})
	}
	return f
}

func emptyMeasureForm() measureForm { return measureFormFrom(url.Values{}) }

// measureInputOrder is the order of the inputs on the page, for the error
// summary.
func measureInputOrder() []string {
	order := []string{"kind", "person_email"}
	for i := 1; i <= maxRepresentatives; i++ {
		p := "rep" + strconv.Itoa(i) + "_"
		order = append(order, p+"email", p+"org", p+"role")
	}
	order = append(order, "area-papiers", "valid_from", "valid_until", "jurisdiction", "decision_date", "reference")
	for i := 1; i <= maxAdjustments; i++ {
		p := "adj" + strconv.Itoa(i) + "_"
		order = append(order, p+"party", p+"area", p+"action", p+"decision", p+"note")
	}
	return order
}

type newMeasureData struct {
	Form       measureForm
	Problems   []problem
	Errors     map[string]string
	Kinds      []option
	RoleGroups []optionGroup
	Orgs       []option
	Parties    []option
	Actions    []option
	Decisions  []option
}

func (s *operatorPages) newMeasureData(ctx context.Context, op mandates.Actor, f measureForm, p *formProblems) (newMeasureData, error) {
	d := newMeasureData{Form: f, Kinds: measureKindOptions(), RoleGroups: roleGroups(), Parties: partyOptions, Actions: actionOptions,
		Decisions: decisionOptions, Errors: map[string]string{}}
	orgs, err := s.mandates.Service.Organisations(ctx, op)
	if err != nil {
		return d, err
	}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{o.ID, mandates.Text{FR: o.Name, EN: o.Name}})
	}
	if p != nil {
		d.Problems, d.Errors = p.list(), p.byID
	}
	return d, nil
}

func (s *operatorPages) newMeasureForm(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	d, err := s.newMeasureData(r.Context(), actor(sess), emptyMeasureForm(), nil)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "operator_measure_new", "operator.new.title", d)
	return nil
}

// checkMeasureForm finds every problem it can before the domain is asked,
// each on its own input, and builds the domain's input.
func (s *operatorPages) checkMeasureForm(ctx context.Context, f measureForm, p *formProblems) (mandates.MeasureInput, error) {
	kind := mandates.Kind(f.Kind)
	in := mandates.MeasureInput{Kind: kind, Areas: f.Areas, Decision: mandates.CourtDecision{Jurisdiction: f.Jurisdiction,
		Reference: f.Reference, Renewal: f.Renewal}}
	if !kind.IsMeasure() {
		p.add("kind", "operator.problem.kind")
	}
	lookup := func(email string) (string, bool, error) {
		pers, err := s.mandates.Service.PersonByEmail(ctx, email)
		if errors.Is(err, mandates.ErrNotFound) {
			return "", false, nil
		}
		return pers.ID, err == nil, err
	}
	if f.PersonEmail == "" {
		p.add("person_email", "operator.problem.person_missing")
	} else if id, found, err := lookup(f.PersonEmail); err != nil {
		return in, err
	} else if !found {
		p.add("person_email", "operator.problem.person_unknown")
	} else {
		in.PersonID = id
	}
	seen := map[string]bool{}
	for _, rr := range f.Reps {
		pre := "rep" + strconv.Itoa(rr.N) + "_"
		n := map[string]any{"N": rr.N}
		if rr.Email == "" && rr.Org == "" && rr.Role == "" {
			continue
		}
		ri := mandates.RepresentativeInput{OrganisationID: rr.Org, Role: mandates.Role(rr.Role)}
		switch {
		case rr.Email != "" && rr.Org != "":
			p.add(pre+"email", "operator.problem.rep_both", n)
		case rr.Email == "" && rr.Org == "":
			p.add(pre+"email", "operator.problem.rep_who", n)
		case rr.Email != "":
			id, found, err := lookup(rr.Email)
			switch {
			case err != nil:
				return in, err
			case !found:
				p.add(pre+"email", "operator.problem.rep_unknown", n)
			case id == in.PersonID:
				p.add(pre+"email", "operator.problem.rep_self", n)
			}
			ri.PersonID = id
		case !mandates.IsID(rr.Org):
			p.add(pre+"org", "operator.problem.rep_org", n)
		}
		if key := strings.ToLower(rr.Email) + rr.Org; key != "" && seen[key] {
			p.add(pre+"email", "operator.problem.rep_twice", n)
		} else {
			seen[key] = true
		}
		switch {
		case rr.Role == "":
			p.add(pre+"role", "operator.problem.role_missing", n)
		case !slices.ContainsFunc(mandates.Kinds, ri.Role.ValidFor):
			p.add(pre+"role", "operator.problem.role_unknown", n)
		case kind.IsMeasure() && !ri.Role.ValidFor(kind):
			p.add(pre+"role", "operator.problem.role_kind", map[string]any{"N": rr.N, "Kind": kind.Label().In(p.lang)})
		}
		in.Representatives = append(in.Representatives, ri)
	}
	if len(in.Representatives) == 0 {
		p.add("rep1_email", "operator.problem.rep_missing")
	}
	if !validAreas(f.Areas) {
		p.add("area-papiers", "operator.problem.areas")
	}
	var err error
	if f.ValidFrom == "" {
		p.add("valid_from", "operator.problem.from_missing")
	} else if in.ValidFrom, err = parseDate("valid_from", f.ValidFrom); err != nil {
		p.add("valid_from", "operator.problem.from_format")
	}
	switch {
	case f.ValidUntil == "" && kind != mandates.MandatProtectionFuture:
		p.add("valid_until", "operator.problem.until_missing")
	case f.ValidUntil == "":
	default:
		if in.ValidUntil, err = parseDate("valid_until", f.ValidUntil); err != nil {
			p.add("valid_until", "operator.problem.until_format")
		} else if !in.ValidFrom.IsZero() && !in.ValidUntil.After(in.ValidFrom) {
			p.add("valid_until", "operator.problem.until_before")
		}
	}
	if f.Jurisdiction == "" {
		p.add("jurisdiction", "operator.problem.jurisdiction")
	}
	if f.DecisionDate == "" {
		p.add("decision_date", "operator.problem.decision_date_missing")
	} else if in.Decision.Date, err = parseDate("decision_date", f.DecisionDate); err != nil {
		p.add("decision_date", "operator.problem.decision_date_format")
	}
	if f.Reference == "" {
		p.add("reference", "operator.problem.reference")
	}
	for _, a := range f.Adjs {
		if a.Party == "" && a.Action == "" && a.Decision == "" && a.Note == "" {
			continue
		}
		pre := "adj" + strconv.Itoa(a.N) + "_"
		n := map[string]any{"N": a.N}
		adj := mandates.Adjustment{Party: mandates.Party(a.Party), Area: mandates.Area(a.Area), Action: mandates.Action(a.Action),
			Decision: mandates.Decision(a.Decision), Note: a.Note}
		if adj.Party != mandates.PartyPerson && adj.Party != mandates.PartyRepresentative {
			p.add(pre+"party", "operator.problem.adj_party", n)
		}
		if adj.Area != "" && !adj.Area.Valid() {
			p.add(pre+"area", "operator.problem.adj_area", n)
		}
		if adj.Action != mandates.Consult && adj.Action != mandates.Manage && adj.Action != mandates.Dispose {
			p.add(pre+"action", "operator.problem.adj_action", n)
		}
		if !adj.Decision.Valid() {
			p.add(pre+"decision", "operator.problem.adj_decision", n)
		}
		if len(adj.Note) > 500 {
			p.add(pre+"note", "operator.problem.adj_note", n)
		}
		in.Adjustments = append(in.Adjustments, adj)
	}
	return in, nil
}

// measureDomainProblem puts a failure of the domain on the input it is
// about, with a plain sentence; ok is false for a failure that is not the
// operator's input (the store is down…).
func measureDomainProblem(err error, p *formProblems) (status int, ok bool) {
	var unique *mandates.UniqueError
	if errors.As(err, &unique) {
		p.add("reference", "operator.problem.duplicate")
		return http.StatusConflict, true
	}
	field := invalidField(err)
	if field == "" {
		return 0, false
	}
	msg := err.Error()
	switch field {
	case "kind":
		p.add("kind", "operator.problem.kind")
	case "person":
		p.add("person_email", "operator.problem.person_unknown")
	case "representatives", "representative", "organisation", "delegates":
		switch {
		case strings.Contains(msg, "twice"):
			p.add("rep1_email", "operator.problem.rep_twice", map[string]any{"N": 1})
		case strings.Contains(msg, "represented person"):
			p.add("rep1_email", "operator.problem.rep_self", map[string]any{"N": 1})
		case field == "organisation":
			p.add("rep1_org", "operator.problem.rep_org", map[string]any{"N": 1})
		default:
			p.add("rep1_email", "operator.problem.rep_missing")
		}
	case "role":
		p.add("rep1_role", "operator.problem.role_unknown", map[string]any{"N": 1})
	case "procedure_areas":
		p.add("area-papiers", "operator.problem.areas")
	case "adjustments":
		if strings.Contains(msg, "mandataire spécial") {
			p.add("adj1_party", "operator.problem.sauvegarde")
		} else {
			p.add("adj1_party", "operator.problem.adj_party", map[string]any{"N": 1})
		}
	case "valid_from":
		p.add("valid_from", "operator.problem.from_missing")
	case "valid_until":
		untilProblem(msg, p, "valid_until")
	case "decision_jurisdiction":
		p.add("jurisdiction", "operator.problem.jurisdiction")
	case "decision_reference":
		p.add("reference", "operator.problem.reference")
	case "decision_date", "decision":
		p.add("decision_date", "operator.problem.decision_date_missing")
	default:
		p.add("kind", "operator.problem.other")
	}
	return http.StatusBadRequest, true
}

// untilProblem says in plain words what is wrong with an end date.
func untilProblem(msg string, p *formProblems, id string) {
	switch {
	case strings.Contains(msg, "more than"):
		years := 0
		if _, rest, ok := strings.Cut(msg, "is more than "); ok {
			years, _ = strconv.Atoi(strings.Fields(rest)[0])
		}
		p.add(id, "operator.problem.until_too_far", map[string]any{"Years": years})
	case strings.Contains(msg, "after the start"):
		p.add(id, "operator.problem.until_before")
	default:
		p.add(id, "operator.problem.until_missing")
	}
}

func (s *operatorPages) registerMeasure(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	ctx := r.Context()
	f := measureFormFrom(r.PostForm)
	p := s.formProblems(r, measureInputOrder()...)
	in, err := s.checkMeasureForm(ctx, f, p)
	if err != nil {
		return err
	}
	status := http.StatusBadRequest
	if p.empty() {
		reps, err := s.mandates.Service.RegisterMeasure(ctx, actor(sess), in)
		if err == nil {
			http.Redirect(w, r, "/operateur/mesures/"+reps[0].ID+"?fait=enregistree", http.StatusSeeOther)
			return nil
		}
		var known bool
		if status, known = measureDomainProblem(err, p); !known {
			return err
		}
	}
	d, err := s.newMeasureData(ctx, actor(sess), f, p)
	if err != nil {
		return err
	}
	s.render(w, r, status, "operator_measure_new", "operator.new.title_error", d)
	return nil
}

// --- One measure -------------------------------------------------------------

type decisionRow struct {
	Action   mandates.Text
	Decision mandates.Text
}

type historyRow struct {
	At     time.Time
	What   string
	Actor  string
	Detail []string
}

// measureData is the measure page: the record, and the forms that change
// it with what the operator typed.
type measureData struct {
	View         mandates.View
	KindLabel    string // for the title
	PersonName   string
	PersonEmail  string
	RepEmail     string
	RepActions   []decisionRow
	PersonActs   []decisionRow
	History      []historyRow
	Others       []mandates.View // co-representatives under the same decision
	Done         string
	Problems     []problem
	ProblemTitle string
	Errors       map[string]string
	Form         string // the form the problem is about
	// What the forms hold: the stored values, or what was typed.
	SuspendReason, EndReason, EditUntil string
	EditAreas                           []mandates.Area
	CanActivate, CanSuspend, CanResume  bool
	CanEnd, CanEdit                     bool
}

func (s *operatorPages) measureData(ctx context.Context, r *http.Request, op mandates.Actor, rep mandates.Representation) (measureData, error) {
	svc := s.mandates.Service
	lang := requestLang(r)
	l := s.localizer(r)
	views, err := svc.Describe(ctx, []mandates.Representation{rep})
	if err != nil {
		return measureData{}, err
	}
	v := views[0]
	d := measureData{View: v, KindLabel: rep.Kind.Label().In(lang), PersonName: v.PersonName, Errors: map[string]string{},
		EditAreas: rep.Areas}
	if !rep.ValidUntil.IsZero() {
		d.EditUntil = rep.ValidUntil.UTC().Format(time.DateOnly)
	}
	names := map[string]string{}
	name := func(id string) (mandates.Person, string, error) {
		p, err := svc.Person(ctx, id)
		if err != nil {
			return p, "", err
		}
		names[id] = mandates.DisplayName(p)
		return p, names[id], nil
	}
	p, _, err := name(rep.PersonID)
	if err != nil {
		return d, err
	}
	d.PersonEmail = p.Email
	if id := rep.Representative.PersonID; id != "" {
		rp, _, err := name(id)
		if err != nil {
			return d, err
		}
		d.RepEmail = rp.Email
	}
	pol := svc.Policy()
	acts := pol.Actions(&rep, "")
	for _, a := range mandates.Actions {
		d.RepActions = append(d.RepActions, decisionRow{a.Label(), acts[a].Label()})
		d.PersonActs = append(d.PersonActs, decisionRow{a.Label(), pol.PersonDecision(&rep, a, "").Label()})
	}
	for _, c := range rep.History {
		h := historyRow{At: c.At, What: translate(l, "operator.history."+strings.TrimPrefix(string(c.Type), "representation."))}
		if c.ActorID != "" {
			n, ok := names[c.ActorID]
			if !ok {
				if _, n, err = name(c.ActorID); err != nil && !errors.Is(err, mandates.ErrNotFound) {
					return d, err
				}
			}
			h.Actor = n
		}
		if reason := c.Detail["reason"]; reason != "" {
			h.Detail = append(h.Detail, translateData(l, "operator.history.reason", map[string]any{"Reason": reason}))
		}
		if fields := c.Detail["fields"]; fields != "" {
			var words []string
			for _, f := range strings.Fields(fields) {
				words = append(words, translate(l, "operator.history.field."+f))
			}
			h.Detail = append(h.Detail, translateData(l, "operator.history.fields", map[string]any{"Fields": strings.Join(words, ", ")}))
		}
		d.History = append(d.History, h)
	}
	if dec := rep.Source.Decision; dec != nil {
		found, err := svc.SearchMeasures(ctx, op, dec.Reference)
		if err != nil {
			return d, err
		}
		for _, o := range found {
			if o.ID != rep.ID && o.Source.Decision != nil && o.Source.Decision.Key() == dec.Key() {
				d.Others = append(d.Others, o)
			}
		}
	}
	st := rep.Status
	d.CanActivate = st == mandates.StatusPending
	d.CanSuspend = st == mandates.StatusActive
	d.CanResume = st == mandates.StatusSuspended
	d.CanEnd = st != mandates.StatusRevoked
	d.CanEdit = st != mandates.StatusRevoked && rep.Kind.IsMeasure()
	return d, nil
}

func (s *operatorPages) measurePage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rep, err := s.mandates.Service.Representation(ctx, sess.PersonID, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	d, err := s.measureData(ctx, r, actor(sess), rep)
	if err != nil {
		return err
	}
	d.Done = doneMessages[r.URL.Query().Get("fait")]
	s.render(w, r, http.StatusOK, "operator_measure", "operator.measure.title", d)
	return nil
}

// measureActions are the page's action names and the API's.
var measureActions = map[string]string{"activer": "activate", "pause": "suspend", "reprise": "resume", "fin": "end"}

// changeMeasure runs one of the measure page's forms. When the measure
// changed since the form was shown, or the change is refused, the page
// comes back with the current record, a plain message, and what the
// operator typed still in the form.
func (s *operatorPages) changeMeasure(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	ctx, svc := r.Context(), s.mandates.Service
	id, action := mux.Vars(r)["id"], mux.Vars(r)["action"]
	version, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || version <= 0 {
		return statusError(http.StatusBadRequest)
	}
	cur, err := svc.Representation(ctx, sess.PersonID, id)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	until := strings.TrimSpace(r.PostForm.Get("valid_until"))
	areas := areasOf(r.PostForm["areas"])
	p := s.formProblems(r, "conflict", "inactive", "edit_until", "edit-area-papiers", "reason-"+action)
	var changeErr error
	if action == "modifier" {
		e := mandates.MeasureEdit{Areas: areas, Adjustments: cur.Adjustments}
		switch {
		case until == "" && cur.Kind != mandates.MandatProtectionFuture:
			p.add("edit_until", "operator.problem.until_missing")
		case until == "":
		case cur.ValidUntil.UTC().Format(time.DateOnly) == until:
			e.ValidUntil = cur.ValidUntil // unchanged: keep the instant as stored
		default:
			if e.ValidUntil, err = parseDate("valid_until", until); err != nil {
				p.add("edit_until", "operator.problem.until_format")
			}
		}
		if !validAreas(areas) {
			p.add("edit-area-papiers", "operator.problem.areas")
		}
		if p.empty() {
			_, changeErr = svc.EditMeasure(ctx, actor(sess), id, version, e)
		}
	} else {
		_, changeErr = s.statusChange(ctx, actor(sess), measureActions[action], id, version, reason)
	}
	if p.empty() && changeErr == nil {
		http.Redirect(w, r, "/operateur/mesures/"+id+"?fait="+action, http.StatusSeeOther)
		return nil
	}
	status := http.StatusBadRequest
	title := "operator.measure.problem_title"
	switch {
	case changeErr == nil:
	case errors.Is(changeErr, mandates.ErrConflict):
		status, title = http.StatusConflict, "operator.measure.conflict_title"
		p.add("conflict", "operator.measure.conflict")
	case errors.Is(changeErr, mandates.ErrInactive):
		status = http.StatusConflict
		p.add("inactive", "operator.measure.inactive")
	case invalidField(changeErr) == "valid_until":
		untilProblem(changeErr.Error(), p, "edit_until")
	case invalidField(changeErr) == "procedure_areas":
		p.add("edit-area-papiers", "operator.problem.areas")
	case invalidField(changeErr) == "edit":
		p.add("edit_until", "operator.problem.unchanged")
	case invalidField(changeErr) == "reason":
		p.add("reason-"+action, "operator.problem.reason")
	default:
		return changeErr
	}
	// The record as it is now, so the operator sees what changed.
	if cur, err = svc.Representation(ctx, sess.PersonID, id); err != nil {
		return err
	}
	d, err := s.measureData(ctx, r, actor(sess), cur)
	if err != nil {
		return err
	}
	d.Form, d.ProblemTitle, d.Errors = action, translate(p.l, title), p.byID
	for _, pr := range p.list() {
		if pr.ID == "conflict" || pr.ID == "inactive" {
			pr.ID = "" // a sentence about the record, not about an input
		}
		d.Problems = append(d.Problems, pr)
	}
	switch action {
	case "modifier":
		d.EditUntil, d.EditAreas = until, areas
	case "pause":
		d.SuspendReason = reason
	case "fin":
		d.EndReason = reason
	}
	s.render(w, r, status, "operator_measure", "operator.measure.title_error", d)
	return nil
}

// --- Organisations -----------------------------------------------------------

type orgForm struct {
	Name, Kind, AdminEmail string
	Areas                  []mandates.Area
}

type organisationsData struct {
	Orgs     []mandates.Organisation
	Form     orgForm
	Kinds    []option
	Problems []problem
	Errors   map[string]string
}

func (s *operatorPages) organisationsData(ctx context.Context, op mandates.Actor, f orgForm, p *formProblems) (organisationsData, error) {
	orgs, err := s.mandates.Service.Organisations(ctx, op)
	d := organisationsData{Orgs: orgs, Form: f, Kinds: orgKindOptions(), Errors: map[string]string{}}
	if p != nil {
		d.Problems, d.Errors = p.list(), p.byID
	}
	return d, err
}

func (s *operatorPages) organisationsPage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	d, err := s.organisationsData(r.Context(), actor(sess), orgForm{}, nil)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "operator_orgs", "operator.orgs.title", d)
	return nil
}

func (s *operatorPages) createOrganisation(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	ctx := r.Context()
	f := orgForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Kind: r.PostForm.Get("kind"), AdminEmail: strings.TrimSpace(r.PostForm.Get("admin_email")),
		Areas: areasOf(r.PostForm["areas"])}
	p := s.formProblems(r, "name", "org_kind", "org-area-papiers", "admin_email")
	if f.Name == "" || len(f.Name) > 200 {
		p.add("name", "operator.orgs.problem.name")
	}
	if !slices.Contains(mandates.OrganisationKinds, mandates.OrganisationKind(f.Kind)) {
		p.add("org_kind", "operator.orgs.problem.kind")
	}
	if !validAreas(f.Areas) {
		p.add("org-area-papiers", "operator.problem.areas")
	}
	var adminID string
	if f.AdminEmail == "" {
		p.add("admin_email", "operator.orgs.problem.admin_missing")
	} else if admin, err := s.mandates.Service.PersonByEmail(ctx, f.AdminEmail); errors.Is(err, mandates.ErrNotFound) {
		p.add("admin_email", "operator.orgs.problem.admin_unknown")
	} else if err != nil {
		return err
	} else {
		adminID = admin.ID
	}
	if p.empty() {
		o, err := s.mandates.Service.CreateOrganisation(ctx, actor(sess), mandates.Organisation{Name: f.Name, Kind: mandates.OrganisationKind(f.Kind),
			Areas: f.Areas}, adminID)
		switch field := invalidField(err); {
		case err == nil:
			http.Redirect(w, r, "/structure/"+o.ID+"?fait=creee", http.StatusSeeOther)
			return nil
		case field == "name":
			p.add("name", "operator.orgs.problem.name")
		case field == "kind":
			p.add("org_kind", "operator.orgs.problem.kind")
		case field == "procedure_areas":
			p.add("org-area-papiers", "operator.problem.areas")
		case field != "":
			p.add("admin_email", "operator.orgs.problem.admin_unknown")
		default:
			return err
		}
	}
	d, err := s.organisationsData(ctx, actor(sess), f, p)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusBadRequest, "operator_orgs", "operator.orgs.title_error", d)
	return nil
}
