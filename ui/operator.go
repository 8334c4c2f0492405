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

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/locales"
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
	pages.HandleFunc(measureNewPath, s.page(s.newMeasureForm)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc(measureNewPath, s.page(s.registerMeasure)).Methods(http.MethodPost)
	pages.HandleFunc("/operateur/mesures/{id}", s.page(s.measurePage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/mesures/{id}/corriger", s.page(s.correctionPage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/mesures/{id}/modifier", s.page(s.correctMeasure)).Methods(http.MethodPost)
	pages.HandleFunc("/operateur/mesures/{id}/{action:activer|pause|reprise|fin}", s.page(s.changeMeasure)).Methods(http.MethodPost)
	pages.HandleFunc("/operateur/structures", s.page(s.organisationsPage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/structures", s.page(s.createOrganisation)).Methods(http.MethodPost)
}

// operatorOnly is the signed-in operator; anyone else gets the login page
// or the 404 page.
func (s *Server) operatorOnly(r *http.Request) (authn.BrowserSession, error) {
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
	Label locales.Text
}

type optionGroup struct {
	Label   locales.Text
	Options []option
}

func measureKindOptions() []option {
	var out []option
	for _, k := range mandates.Kinds {
		if k.IsMeasure() {
			out = append(out, option{string(k), locales.Kind(k)})
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
			fr, en = append(fr, locales.Kind(k).FR), append(en, locales.Kind(k).EN)
		}
		g := optionGroup{Label: locales.Text{FR: strings.Join(fr, ", "), EN: strings.Join(en, ", ")}}
		for _, role := range mandates.RolesOf[ks[0]] {
			g.Options = append(g.Options, option{string(role), locales.Role(role)})
		}
		out = append(out, g)
	}
	return out
}

func orgKindOptions() []option {
	var out []option
	for _, k := range mandates.OrganisationKinds {
		out = append(out, option{string(k), locales.OrganisationKind(k)})
	}
	return out
}

var (
	partyOptions    = []option{{string(mandates.PartyPerson), locales.Text{FR: "La personne protégée", EN: "The protected person"}}, {string(mandates.PartyRepresentative), locales.Text{FR: "Le représentant", EN: "The representative"}}}
	actionOptions   = []option{{string(mandates.Consult), locales.Action(mandates.Consult)}, {string(mandates.Manage), locales.Action(mandates.Manage)}, {string(mandates.Dispose), locales.Action(mandates.Dispose)}}
	decisionOptions = []option{{string(mandates.Allowed), locales.Decision(mandates.Allowed)}, {string(mandates.Cosign), locales.Decision(mandates.Cosign)}, {string(mandates.No), locales.Decision(mandates.No)}}
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

// adjustmentsOf are the judge's adjustments the rows give, leaving out
// the rows left empty; rows learns which row each one came from, so a
// problem is shown next to its row.
func adjustmentsOf(adjs []adjRow, rows *measureRows) []mandates.Adjustment {
	var out []mandates.Adjustment
	for _, a := range adjs {
		if a.Party == "" && a.Action == "" && a.Decision == "" && a.Note == "" {
			continue
		}
		out = append(out, mandates.Adjustment{Party: mandates.Party(a.Party), Area: mandates.Area(a.Area),
			Action: mandates.Action(a.Action), Decision: mandates.Decision(a.Decision), Note: a.Note})
		rows.adjs = append(rows.adjs, a.N)
	}
	return out
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
	// Kept is the message id that says the form was filled with what the
	// operator wrote before (keep.go), or "".
	Kept string
}

func (s *operatorPages) newMeasureData(ctx context.Context, op mandates.Actor, f measureForm, p *formProblems) (newMeasureData, error) {
	d := newMeasureData{Form: f, Kinds: measureKindOptions(), RoleGroups: roleGroups(), Parties: partyOptions, Actions: actionOptions,
		Decisions: decisionOptions, Errors: map[string]string{}}
	orgs, err := s.mandates.Service.Organisations(ctx, op)
	if err != nil {
		return d, err
	}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{o.ID, locales.Text{FR: o.Name, EN: o.Name}})
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
	// A form kept after the session ended, or across the language
	// switch, fills the form again; it is only shown, never sent.
	f := emptyMeasureForm()
	kept, notice := s.keeping().keptForm(w, r)
	if kept != nil {
		f = measureFormFrom(kept)
	}
	d, err := s.newMeasureData(r.Context(), actor(sess), f, nil)
	if err != nil {
		return err
	}
	d.Kept = notice
	s.render(w, r, http.StatusOK, "operator_measure_new", "operator.new.title", d)
	return nil
}

// checkMeasureForm builds the domain's input from the form, resolving the
// email addresses it names and reading its dates (what only the page
// knows), and puts each problem the domain finds (MeasureInput.Check) on
// its own input.
func (s *operatorPages) checkMeasureForm(ctx context.Context, f measureForm, p *formProblems) (mandates.MeasureInput, error) {
	in := mandates.MeasureInput{Kind: mandates.Kind(f.Kind), Areas: f.Areas, Decision: mandates.CourtDecision{Jurisdiction: f.Jurisdiction,
		Reference: f.Reference, Renewal: f.Renewal}}
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
	rows := measureRows{lang: p.lang}
	for _, rr := range f.Reps {
		if rr.Email == "" && rr.Org == "" && rr.Role == "" {
			continue
		}
		ri := mandates.RepresentativeInput{OrganisationID: rr.Org, Role: mandates.Role(rr.Role)}
		if rr.Email != "" {
			id, found, err := lookup(rr.Email)
			if err != nil {
				return in, err
			}
			if !found {
				p.add("rep"+strconv.Itoa(rr.N)+"_email", "operator.problem.rep_unknown", map[string]any{"N": rr.N})
			}
			ri.PersonID = id
		}
		in.Representatives, rows.reps = append(in.Representatives, ri), append(rows.reps, rr.N)
	}
	dates := []struct {
		id, text, format string
		into             *time.Time
	}{
		{"valid_from", f.ValidFrom, "operator.problem.from_format", &in.ValidFrom},
		{"valid_until", f.ValidUntil, "operator.problem.until_format", &in.ValidUntil},
		{"decision_date", f.DecisionDate, "operator.problem.decision_date_format", &in.Decision.Date},
	}
	for _, d := range dates {
		var err error
		if *d.into, err = parseDate(d.id, d.text); err != nil {
			p.add(d.id, d.format)
		}
	}
	in.Adjustments = adjustmentsOf(f.Adjs, &rows)
	for _, inv := range in.Check() {
		rows.problem(inv, in.Kind, p)
	}
	return in, nil
}

// measureRows are the form's row numbers of the representatives and
// adjustments the domain's input lists, so that a problem with an Index
// lands on its row.
type measureRows struct {
	lang       string
	reps, adjs []int
}

func (m measureRows) row(rows []int, index int) int {
	if index > 0 && index <= len(rows) {
		return rows[index-1]
	}
	return 1
}

// problem puts one of the domain's problems on the input it is about, with
// a plain sentence.
func (m measureRows) problem(inv *mandates.InvalidError, kind mandates.Kind, p *formProblems) {
	rep := m.row(m.reps, inv.Index)
	pre, n := "rep"+strconv.Itoa(rep)+"_", map[string]any{"N": rep}
	adj := m.row(m.adjs, inv.Index)
	apre, an := "adj"+strconv.Itoa(adj)+"_", map[string]any{"N": adj}
	switch f, r := inv.Field, inv.Rule; {
	case f == "kind":
		p.add("kind", "operator.problem.kind")
	case f == "person" && r == mandates.RuleRequired:
		p.add("person_email", "operator.problem.person_missing")
	case f == "person":
		p.add("person_email", "operator.problem.person_unknown")
	case f == "representatives" && r == mandates.RuleDuplicate:
		p.add(pre+"email", "operator.problem.rep_twice", n)
	case f == "representative" && r == mandates.RuleBoth:
		p.add(pre+"email", "operator.problem.rep_both", n)
	case f == "representative" && r == mandates.RuleRequired:
		p.add(pre+"email", "operator.problem.rep_who", n)
	case f == "representative" && r == mandates.RuleSelf:
		p.add(pre+"email", "operator.problem.rep_self", n)
	case f == "representative" && r == mandates.RuleUnknown:
		p.add(pre+"email", "operator.problem.rep_unknown", n)
	case f == "organisation":
		p.add(pre+"org", "operator.problem.rep_org", n)
	case f == "representatives" || f == "representative" || f == "delegates":
		p.add("rep1_email", "operator.problem.rep_missing")
	case f == "role" && r == mandates.RuleRequired:
		p.add(pre+"role", "operator.problem.role_missing", n)
	case f == "role" && r == mandates.RuleForbidden:
		p.add(pre+"role", "operator.problem.role_kind", map[string]any{"N": rep, "Kind": locales.Kind(kind).In(m.lang)})
	case f == "role":
		p.add(pre+"role", "operator.problem.role_unknown", n)
	case f == "procedure_areas":
		p.add("area-papiers", "operator.problem.areas")
	case f == "valid_from":
		p.add("valid_from", "operator.problem.from_missing")
	case f == "valid_until":
		untilProblem(inv, p, "valid_until")
	case f == "decision_jurisdiction":
		p.add("jurisdiction", "operator.problem.jurisdiction")
	case f == "decision_reference":
		p.add("reference", "operator.problem.reference")
	case f == "decision_date" || f == "decision":
		p.add("decision_date", "operator.problem.decision_date_missing")
	case f == "adjustments" && r == mandates.RuleNamedActs:
		p.add("adj1_party", "operator.problem.sauvegarde")
	case f == "adjustments" || f == "adjustments.party":
		p.add(apre+"party", "operator.problem.adj_party", an)
	case f == "adjustments.area":
		p.add(apre+"area", "operator.problem.adj_area", an)
	case f == "adjustments.action":
		p.add(apre+"action", "operator.problem.adj_action", an)
	case f == "adjustments.decision":
		p.add(apre+"decision", "operator.problem.adj_decision", an)
	case f == "adjustments.note":
		p.add(apre+"note", "operator.problem.adj_note", an)
	default:
		p.add("kind", "operator.problem.other")
	}
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
	inv := invalidOf(err)
	if inv == nil {
		return 0, false
	}
	measureRows{lang: p.lang}.problem(inv, "", p)
	return http.StatusBadRequest, true
}

// untilProblem says in plain words what is wrong with an end date.
func untilProblem(inv *mandates.InvalidError, p *formProblems, id string) {
	switch inv.Rule {
	case mandates.RuleMaxYears:
		p.add(id, "operator.problem.until_too_far", map[string]any{"Years": inv.Limit})
	case mandates.RuleAfter:
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
	s.render(w, r, status, "operator_measure_new", "operator.new.title", d)
	return nil
}

// --- One measure -------------------------------------------------------------

// decisionRow is what one action allows under a measure, as the policy
// answers it area by area (Policy.RepresentativeDecision and
// PersonDecision): one answer when every area the measure covers gets the
// same, else one line per answer with its areas, where the judge changed
// the rule for some of them.
type decisionRow struct {
	Action   locales.Text
	Decision locales.Text // the one answer
	ByArea   []string     // or the answer for each group of areas
}

// decisionRowOf asks the policy (ask), for action a, in each area the
// measure covers, and groups the areas by answer; the answer ask gives for
// no area in particular, where no adjustment for one area applies, is
// said last, for "the other areas".
func decisionRowOf(l *i18n.Localizer, lang string, rep *mandates.Representation, a mandates.Action, ask func(mandates.Area) mandates.Decision) decisionRow {
	covered := rep.Areas
	if len(covered) == 0 {
		covered = mandates.Areas
	}
	var order []mandates.Decision
	groups := map[mandates.Decision][]mandates.Area{}
	for _, area := range covered {
		d := ask(area)
		if _, ok := groups[d]; !ok {
			order = append(order, d)
		}
		groups[d] = append(groups[d], area)
	}
	row := decisionRow{Action: locales.Action(a)}
	if len(order) == 1 {
		row.Decision = locales.Decision(order[0])
		return row
	}
	others := ask("")
	for _, d := range order {
		if d == others {
			continue
		}
		var names []string
		for _, area := range groups[d] {
			names = append(names, locales.Area(area).In(lang))
		}
		row.ByArea = append(row.ByArea, translateData(l, "operator.measure.rights_in",
			map[string]any{"Decision": locales.Decision(d).In(lang), "Areas": strings.Join(names, ", ")}))
	}
	if _, ok := groups[others]; ok {
		row.ByArea = append(row.ByArea, translateData(l, "operator.measure.rights_others", map[string]any{"Decision": locales.Decision(others).In(lang)}))
	}
	return row
}

type historyRow struct {
	At     time.Time
	What   string
	Actor  string
	Detail []string
	// Link is the representation a correction names: the one that
	// replaces this one, or the one this one replaces.
	Link, LinkText string
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
	// InForce says whether anyone may act under the measure now
	// (Representation.ActiveAt): the rights are what it allows when it is.
	InForce bool
	// What the forms hold: the stored values, or what was typed.
	SuspendReason, EndReason           string
	CanActivate, CanSuspend, CanResume bool
	CanEnd, CanEdit                    bool
	// Notices: the operators' view of the person's notices is mounted.
	Notices bool
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
	d := measureData{View: v, KindLabel: locales.Kind(rep.Kind).In(lang), PersonName: v.PersonName, Errors: map[string]string{},
		InForce: rep.ActiveAt(s.now()), Notices: s.mandates.Notices != nil}
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
	for _, a := range mandates.Actions {
		d.RepActions = append(d.RepActions, decisionRowOf(l, lang, &rep, a, func(area mandates.Area) mandates.Decision {
			return pol.RepresentativeDecision(&rep, a, area)
		}))
		d.PersonActs = append(d.PersonActs, decisionRowOf(l, lang, &rep, a, func(area mandates.Area) mandates.Decision {
			return pol.PersonDecision(&rep, a, area)
		}))
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
		for key, msgID := range map[string]string{"replaced_by": "operator.history.replaced_by", "replaces": "operator.history.replaces"} {
			if other := c.Detail[key]; mandates.IsID(other) {
				h.Link, h.LinkText = "/operateur/mesures/"+other, translate(l, msgID)
			}
		}
		d.History = append(d.History, h)
	}
	if d.Others, err = svc.CoRepresentatives(ctx, op, rep); err != nil {
		return d, err
	}
	now := s.now()
	d.CanActivate = rep.Can(mandates.Activate, now) == nil
	d.CanSuspend = rep.Can(mandates.Pause, now) == nil
	d.CanResume = rep.Can(mandates.Unpause, now) == nil
	d.CanEnd = rep.Can(mandates.Finish, now) == nil
	d.CanEdit = rep.Can(mandates.Correct, now) == nil
	return d, nil
}

// operatorMeasure is the signed-in operator and the measure the path names
// ({id}), as the operator may read it.
func (s *operatorPages) operatorMeasure(r *http.Request) (authn.BrowserSession, mandates.Representation, error) {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return sess, mandates.Representation{}, err
	}
	rep, err := s.mandates.Service.Representation(r.Context(), sess.PersonID, mux.Vars(r)["id"])
	return sess, rep, err
}

func (s *operatorPages) measurePage(w http.ResponseWriter, r *http.Request) error {
	sess, rep, err := s.operatorMeasure(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
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

// changeMeasure runs one of the measure page's status forms (the
// correction has a page of its own: correctMeasure). When the measure
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
	p := s.formProblems(r, "conflict", "inactive", "reason-"+action)
	_, changeErr := s.statusChange(ctx, actor(sess), measureActions[action], id, version, reason)
	if changeErr == nil {
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
	case "pause":
		d.SuspendReason = reason
	case "fin":
		d.EndReason = reason
	}
	s.render(w, r, status, "operator_measure", "operator.measure.title", d)
	return nil
}

// --- Organisations -----------------------------------------------------------

type orgForm struct {
	Name, Kind, AdminEmail string
	SIRET                  string // optional (mandates.ValidSIRET)
	Areas                  []mandates.Area
	Address                mandates.Address
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
	d, err := s.organisationsData(r.Context(), actor(sess), orgForm{Address: mandates.Address{Country: "France"}}, nil)
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
		Areas: areasOf(r.PostForm["areas"]), Address: orgAddressOf(r.PostForm), SIRET: r.PostForm.Get("siret")}
	p := s.formProblems(r, append(append([]string{"name", "siret", "org_kind"}, orgAddressInputs...), "org-area-papiers", "admin_email")...)
	if f.Name == "" || len(f.Name) > 200 {
		p.add("name", "operator.orgs.problem.name")
	}
	if !slices.Contains(mandates.OrganisationKinds, mandates.OrganisationKind(f.Kind)) {
		p.add("org_kind", "operator.orgs.problem.kind")
	}
	if siret := mandates.NormalSIRET(f.SIRET); siret != "" && !mandates.ValidSIRET(siret) {
		p.add("siret", "operator.orgs.problem.siret")
	}
	orgAddressProblems(f.Address, p)
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
			Areas: f.Areas, Address: f.Address, SIRET: mandates.NormalSIRET(f.SIRET)}, adminID)
		switch field := invalidField(err); {
		case err == nil:
			http.Redirect(w, r, "/structure/"+o.ID+"?fait=creee", http.StatusSeeOther)
			return nil
		case errors.Is(err, mandates.ErrAlreadyExists):
			p.add("siret", "operator.orgs.problem.siret_taken")
		case field == "siret":
			p.add("siret", "operator.orgs.problem.siret")
		case orgAddressProblem(invalidOf(err), p):
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
	s.render(w, r, http.StatusBadRequest, "operator_orgs", "operator.orgs.title", d)
	return nil
}
