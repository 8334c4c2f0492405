package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// The correction of a registered measure: a page of its own, the form
// filled with the record, where the operator changes what does not match
// the court's decision (its number, court, date, the representative and
// their role, the dates, the areas, the judge's changes) and says why.
// The domain (mandates.CorrectMeasure) decides; the page puts each problem
// the domain names on its input.

// correctionForm is the correction form as shown or as typed, kept as
// typed so a form shown again with its problems loses nothing.
type correctionForm struct {
	Jurisdiction, DecisionDate, Reference string
	Renewal                               bool
	RepEmail, RepOrg, Role                string
	ValidFrom, ValidUntil                 string
	Areas                                 []mandates.Area
	Adjs                                  []adjRow
	Reason                                string
}

// correctionFormOf is the form filled with the record: the representative
// by their email address, or their organisation.
func correctionFormOf(rep *mandates.Representation, repEmail string) correctionForm {
	f := correctionForm{RepEmail: repEmail, RepOrg: rep.Representative.OrganisationID, Role: string(rep.Role),
		ValidFrom: dateOnly(rep.ValidFrom), ValidUntil: dateOnly(rep.ValidUntil), Areas: rep.Areas}
	if d := rep.Source.Decision; d != nil {
		f.Jurisdiction, f.DecisionDate, f.Reference, f.Renewal = d.Jurisdiction, dateOnly(d.Date), d.Reference, d.Renewal
	}
	n := max(maxAdjustments, len(rep.Adjustments))
	for i := 1; i <= n; i++ {
		row := adjRow{N: i}
		if i <= len(rep.Adjustments) {
			a := rep.Adjustments[i-1]
			row.Party, row.Area, row.Action, row.Decision, row.Note = string(a.Party), string(a.Area), string(a.Action), string(a.Decision), a.Note
		}
		f.Adjs = append(f.Adjs, row)
	}
	return f
}

func dateOnly(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// typed is the form as the operator sent it. A field the request does not
// carry keeps the record's value, as the API's PATCH does; an unchecked
// box sends nothing, so the areas and the renewal are what was sent.
func (f correctionForm) typed(v url.Values) correctionForm {
	text := func(key string, into *string) {
		if _, ok := v[key]; ok {
			*into = strings.TrimSpace(v.Get(key))
		}
	}
	text("jurisdiction", &f.Jurisdiction)
	text("decision_date", &f.DecisionDate)
	text("reference", &f.Reference)
	text("rep_email", &f.RepEmail)
	text("rep_org", &f.RepOrg)
	text("role", &f.Role)
	text("valid_from", &f.ValidFrom)
	text("valid_until", &f.ValidUntil)
	text("reason", &f.Reason)
	f.Renewal, f.Areas = v.Get("renewal") != "", areasOf(v["areas"])
	for i := range f.Adjs {
		p := "adj" + strconv.Itoa(f.Adjs[i].N) + "_"
		text(p+"party", &f.Adjs[i].Party)
		text(p+"area", &f.Adjs[i].Area)
		text(p+"action", &f.Adjs[i].Action)
		text(p+"decision", &f.Adjs[i].Decision)
		text(p+"note", &f.Adjs[i].Note)
	}
	return f
}

// correctionInputOrder is the order of the correction form's inputs, for
// the error summary.
func correctionInputOrder(adjs int) []string {
	order := []string{"edit_jurisdiction", "edit_decision_date", "edit_reference", "edit_rep_email", "edit_rep_org", "edit_role",
		"edit_from", "edit_until", "edit-area-papiers"}
	for i := 1; i <= adjs; i++ {
		p := "edit_adj" + strconv.Itoa(i) + "_"
		order = append(order, p+"party", p+"area", p+"action", p+"decision", p+"note")
	}
	return append(order, "reason-modifier")
}

// correctionID is the correction form's input for an input of the
// registration form: the domain's problems are put on the registration
// form's inputs (measureRows.problem), then moved here.
func correctionID(id string) string {
	switch id {
	case "area-papiers":
		return "edit-area-papiers"
	case "valid_from":
		return "edit_from"
	case "valid_until":
		return "edit_until"
	case "rep1_email":
		return "edit_rep_email"
	case "rep1_org":
		return "edit_rep_org"
	case "rep1_role":
		return "edit_role"
	case "kind", "person_email":
		return "edit_reference"
	}
	return "edit_" + id
}

// correctionProblem puts one of the domain's problems of a correction on
// its input, with a plain sentence.
func correctionProblem(inv *mandates.InvalidError, kind mandates.Kind, rows measureRows, p *formProblems) {
	switch {
	case inv.Field == "reason" && inv.Rule == mandates.RuleRequired:
		p.add("reason-modifier", "operator.problem.reason_missing")
		return
	case inv.Field == "reason":
		p.add("reason-modifier", "operator.problem.reason")
		return
	case inv.Field == "edit":
		p.add("edit_until", "operator.problem.unchanged")
		return
	case inv.Field == "representatives" && inv.Rule == mandates.RuleDuplicate:
		p.add("edit_rep_email", "operator.problem.rep_named")
		return
	}
	moved := &formProblems{l: p.l, lang: p.lang, byID: map[string]string{}}
	rows.problem(inv, kind, moved)
	for id, text := range moved.byID {
		if _, seen := p.byID[correctionID(id)]; !seen {
			p.byID[correctionID(id)] = text
		}
	}
}

// correctionData is the correction page.
type correctionData struct {
	View         mandates.View
	KindLabel    string // for the title
	PersonName   string
	Others       []mandates.View // co-representatives, whose decision is corrected too
	Form         correctionForm
	Problems     []problem
	ProblemTitle string
	Errors       map[string]string
	Roles        []option
	Orgs         []option
	Parties      []option
	Actions      []option
	Decisions    []option
}

func (s *operatorPages) correctionData(ctx context.Context, r *http.Request, op mandates.Actor, rep mandates.Representation, f *correctionForm) (correctionData, error) {
	svc := s.mandates.Service
	views, err := svc.Describe(ctx, []mandates.Representation{rep})
	if err != nil {
		return correctionData{}, err
	}
	v := views[0]
	d := correctionData{View: v, KindLabel: locales.Kind(rep.Kind).In(requestLang(r)), PersonName: v.PersonName, Errors: map[string]string{},
		Parties: partyOptions, Actions: actionOptions, Decisions: decisionOptions}
	for _, role := range mandates.RolesOf[rep.Kind] {
		d.Roles = append(d.Roles, option{string(role), locales.Role(role)})
	}
	orgs, err := svc.Organisations(ctx, op)
	if err != nil {
		return d, err
	}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{o.ID, locales.Text{FR: o.Name, EN: o.Name}})
	}
	if d.Others, err = svc.CoRepresentatives(ctx, op, rep); err != nil {
		return d, err
	}
	if f != nil {
		d.Form = *f
		return d, nil
	}
	var email string
	if id := rep.Representative.PersonID; id != "" {
		p, err := svc.Person(ctx, id)
		if err != nil {
			return d, err
		}
		email = p.Email
	}
	d.Form = correctionFormOf(&rep, email)
	return d, nil
}

// correctionPage shows the form, filled with the record; a measure that
// can no longer be corrected has no such page.
func (s *operatorPages) correctionPage(w http.ResponseWriter, r *http.Request) error {
	sess, rep, err := s.operatorMeasure(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if rep.Can(mandates.Correct, s.now()) != nil {
		return statusError(http.StatusNotFound)
	}
	d, err := s.correctionData(ctx, r, actor(sess), rep, nil)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "operator_correct", "operator.correct.title", d)
	return nil
}

// correction builds the domain's correction from the form, resolving the
// representative's email address and reading the dates (what only the
// page knows), and puts each problem the domain finds on its input.
func (s *operatorPages) correction(ctx context.Context, cur *mandates.Representation, f correctionForm, p *formProblems) (mandates.MeasureCorrection, error) {
	c := mandates.CorrectionOf(cur)
	c.Decision.Jurisdiction, c.Decision.Reference, c.Decision.Renewal = f.Jurisdiction, f.Reference, f.Renewal
	c.Representative = mandates.RepresentativeInput{OrganisationID: f.RepOrg, Role: mandates.Role(f.Role)}
	c.Areas, c.Reason, c.Adjustments = f.Areas, f.Reason, nil
	if f.RepEmail != "" {
		rp, err := s.mandates.Service.PersonByEmail(ctx, f.RepEmail)
		switch {
		case errors.Is(err, mandates.ErrNotFound):
			p.add("edit_rep_email", "operator.problem.rep_unknown", map[string]any{"N": 1})
		case err != nil:
			return c, err
		default:
			c.Representative.PersonID = rp.ID
		}
	}
	var decided time.Time // a record without a decision is refused by the domain
	if cur.Source.Decision != nil {
		decided = cur.Source.Decision.Date
	}
	dates := []struct {
		id, text, format string
		into             *time.Time
		stored           time.Time
	}{
		{"edit_from", f.ValidFrom, "operator.problem.from_format", &c.ValidFrom, cur.ValidFrom},
		{"edit_until", f.ValidUntil, "operator.problem.until_format", &c.ValidUntil, cur.ValidUntil},
		{"edit_decision_date", f.DecisionDate, "operator.problem.decision_date_format", &c.Decision.Date, decided},
	}
	for _, d := range dates {
		if d.text != "" && d.text == dateOnly(d.stored) {
			*d.into = d.stored // unchanged: keep the instant as stored
			continue
		}
		var err error
		if *d.into, err = parseDate(d.id, d.text); err != nil {
			p.add(d.id, d.format)
		}
	}
	rows := measureRows{lang: p.lang, reps: []int{1}}
	c.Adjustments = adjustmentsOf(f.Adjs, &rows)
	for _, inv := range c.Check(cur) {
		correctionProblem(inv, cur.Kind, rows, p)
	}
	return c, nil
}

// correctMeasure runs the correction form. A form built on an older
// version of the record comes back first with the record as it is now,
// and what the operator typed; then the problems of what was typed, each
// on its input; a measure that can no longer be corrected sends the
// operator back to its page, which says why. When the representative
// changed, the page that follows is the new representation's.
func (s *operatorPages) correctMeasure(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	ctx, svc, id := r.Context(), s.mandates.Service, mux.Vars(r)["id"]
	version, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || version <= 0 {
		return statusError(http.StatusBadRequest)
	}
	cur, err := svc.Representation(ctx, sess.PersonID, id)
	if err != nil {
		return err
	}
	if err := cur.Can(mandates.Correct, s.now()); errors.Is(err, mandates.ErrInactive) {
		return s.measureProblem(w, r, actor(sess), cur, "operator.measure.inactive")
	} else if err != nil {
		return err
	}
	d, err := s.correctionData(ctx, r, actor(sess), cur, nil)
	if err != nil {
		return err
	}
	f := d.Form.typed(r.PostForm)
	p := s.formProblems(r, correctionInputOrder(len(f.Adjs))...)
	status, title := http.StatusBadRequest, "operator.measure.problem_title"
	var changeErr error
	if version != cur.Version {
		changeErr = mandates.ErrConflict
	} else {
		c, err := s.correction(ctx, &cur, f, p)
		if err != nil {
			return err
		}
		if p.empty() {
			var fixed mandates.Representation
			if fixed, changeErr = svc.CorrectMeasure(ctx, actor(sess), id, version, c); changeErr == nil {
				http.Redirect(w, r, "/operateur/mesures/"+fixed.ID+"?fait=modifier", http.StatusSeeOther)
				return nil
			}
		}
	}
	var unique *mandates.UniqueError
	switch {
	case changeErr == nil:
	case errors.Is(changeErr, mandates.ErrConflict):
		status, title = http.StatusConflict, "operator.measure.conflict_title"
		p.add("conflict", "operator.measure.conflict")
		if cur, err = svc.Representation(ctx, sess.PersonID, id); err != nil {
			return err
		}
	case errors.Is(changeErr, mandates.ErrInactive):
		return s.measureProblem(w, r, actor(sess), cur, "operator.measure.inactive")
	case errors.As(changeErr, &unique):
		status = http.StatusConflict
		p.add("edit_reference", "operator.problem.correct_duplicate")
	case invalidOf(changeErr) != nil:
		correctionProblem(invalidOf(changeErr), cur.Kind, measureRows{lang: p.lang, reps: []int{1}}, p)
	default:
		return changeErr
	}
	if d, err = s.correctionData(ctx, r, actor(sess), cur, &f); err != nil {
		return err
	}
	d.ProblemTitle, d.Errors = translate(p.l, title), p.byID
	for _, pr := range p.list() {
		if pr.ID == "conflict" {
			pr.ID = "" // a sentence about the record, not about an input
		}
		d.Problems = append(d.Problems, pr)
	}
	s.render(w, r, status, "operator_correct", "operator.correct.title", d)
	return nil
}

// measureProblem shows the measure page with a sentence about the record
// (not about an input): a change its state no longer allows.
func (s *operatorPages) measureProblem(w http.ResponseWriter, r *http.Request, op mandates.Actor, rep mandates.Representation, msgID string) error {
	// The record as it is now, so the operator sees what changed.
	rep, err := s.mandates.Service.Representation(r.Context(), op.PersonID, rep.ID)
	if err != nil {
		return err
	}
	d, err := s.measureData(r.Context(), r, op, rep)
	if err != nil {
		return err
	}
	l := s.localizer(r)
	d.ProblemTitle, d.Problems = translate(l, "operator.measure.problem_title"), []problem{{Text: translate(l, msgID)}}
	s.render(w, r, http.StatusConflict, "operator_measure", "operator.measure.title", d)
	return nil
}
