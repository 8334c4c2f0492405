package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// Who gives a mandate or a proxy for a person under a measure (issue 12,
// DESIGN.md §3): under tutelle the tutor gives it for the person; under
// curatelle renforcée the person gives it and the curator agrees. These
// pages say who a request waits for, let the representative answer from
// their space (« Demandes pour Jeanne Lefèvre »), and say plainly why the
// person's own word, or a second mandate, is refused.

// roleNouns is a measure's role as a noun after a person's name: French
// for a woman, French for a man, English ("Marie Martin, tutrice").
var roleNouns = map[mandates.Role][3]string{
	mandates.RoleTuteur:            {"tutrice", "tuteur", "guardian"},
	mandates.RoleCoTuteur:          {"co-tutrice", "co-tuteur", "co-guardian"},
	mandates.RoleTuteurBiens:       {"tutrice aux biens", "tuteur aux biens", "guardian of property"},
	mandates.RoleTuteurPersonne:    {"tutrice à la personne", "tuteur à la personne", "personal guardian"},
	mandates.RoleSubrogeTuteur:     {"subrogée tutrice", "subrogé tuteur", "deputy guardian"},
	mandates.RoleCurateur:          {"curatrice", "curateur", "curator"},
	mandates.RoleCoCurateur:        {"co-curatrice", "co-curateur", "co-curator"},
	mandates.RoleSubrogeCurateur:   {"subrogée curatrice", "subrogé curateur", "deputy curator"},
	mandates.RoleMandataireSpecial: {"mandataire spéciale", "mandataire spécial", "special representative"},
	mandates.RolePersonneHabilitee: {"personne habilitée", "personne habilitée", "authorised relative"},
	mandates.RoleMandataire:        {"mandataire", "mandataire", "agent"},
}

// roleNoun is the role of a person of gender g, in lang: « tutrice »,
// « tuteur », or both when Relais does not know the person's gender
// (PLAIN-LANGUAGE.md: by their gender when Relais knows it).
func roleNoun(role mandates.Role, g mandates.Gender, lang string) string {
	n, ok := roleNouns[role]
	switch {
	case !ok:
		return locales.Role(role).In(lang)
	case lang == "en":
		return n[2]
	case g == mandates.GenderFemale || n[0] == n[1]:
		return n[0]
	case g == mandates.GenderMale:
		return n[1]
	}
	return n[1] + " ou " + n[0]
}

// measureHolder is who answers for a person under one of their measures:
// a person (the representative, or the one delegate an organisation
// named), or an organisation.
type measureHolder struct {
	Measure  mandates.View
	Name     string
	Gender   mandates.Gender
	PersonID string // "" for an organisation that named no one delegate
}

// holderOfMeasure reads who holds the measure measureID over personID;
// ok is false when it is not one of the person's measures.
func (s *personPages) holderOfMeasure(ctx context.Context, personID, measureID string) (h measureHolder, ok bool, err error) {
	views, err := s.mandates.Service.Of(ctx, personID)
	if err != nil {
		return h, false, err
	}
	return s.holderIn(ctx, views, measureID)
}

// holderIn is holderOfMeasure among the person's representations, views.
func (s *Server) holderIn(ctx context.Context, views []mandates.View, measureID string) (h measureHolder, ok bool, err error) {
	i := slices.IndexFunc(views, func(v mandates.View) bool { return v.ID == measureID && v.Kind.IsMeasure() })
	if i < 0 {
		return h, false, nil
	}
	v := views[i]
	h = measureHolder{Measure: v, Name: v.RepresentativeOf}
	id := v.Representative.PersonID
	if id == "" && len(v.Representative.Delegates) == 1 {
		id = v.Representative.Delegates[0]
	}
	if id == "" {
		if v.Organisation != nil {
			h.Name = v.Organisation.Name
		}
		return h, true, nil
	}
	p, err := s.mandates.Service.Person(ctx, id)
	if err != nil {
		return h, false, err
	}
	h.Name, h.Gender, h.PersonID = mandates.DisplayName(p), p.Gender, p.ID
	return h, true, nil
}

// words names the holder for a reader. form "your" speaks to the person
// (« Marie Martin, votre tutrice »), "of" names the person (« Marie
// Martin, tutrice de Jeanne Lefèvre »), "bare" neither (« Marie Martin,
// tutrice »). An organisation is named with what it does (« Entraide
// Nord, qui exerce votre curatelle »).
func (h measureHolder) words(l *i18n.Localizer, lang, form, person string) string {
	if h.PersonID == "" {
		key := "journal.role." + string(h.Measure.Kind) + ".of"
		if form == "your" {
			key = "journal.role." + string(h.Measure.Kind) + ".your"
		}
		return translateData(l, "giving.who.bare", map[string]any{"Name": h.Name, "Role": translateData(l, key, map[string]any{"Person": person})})
	}
	return translateData(l, "giving.who."+form, map[string]any{"Name": h.Name, "Role": roleNoun(h.Measure.Role, h.Gender, lang), "Person": person})
}

// waitingHolder is who a mandate or a proxy waiting for the representative
// under the person's measure waits for. ok is false when it waits for
// someone else, or when that measure is no longer the person's.
func (s *personPages) waitingHolder(ctx context.Context, rep *mandates.Representation) (measureHolder, bool, error) {
	u := rep.Source.Measure
	if rep.Waits() != mandates.WaitingRepresentative || u == nil {
		return measureHolder{}, false, nil
	}
	return s.holderOfMeasure(ctx, rep.PersonID, u.MeasureID)
}

// spaceWaitsFor is the line of the person's own card for a mandate or a
// proxy that waits for their representative: « En attente de l’accord de
// Marie Martin, votre tutrice. »; "" otherwise.
func (s *personPages) spaceWaitsFor(ctx context.Context, l *i18n.Localizer, lang string, v mandates.View) (string, error) {
	h, ok, err := s.waitingHolder(ctx, &v.Representation)
	if err != nil || !ok {
		return "", err
	}
	return translateData(l, "giving.waits.your", map[string]any{"Who": h.words(l, lang, "your", v.PersonName), "Name": v.RepresentativeOf}), nil
}

// representativeGives is the measure in force over the person's whole
// affairs whose representative gives proxies and mandates for them, as
// the domain says it (Policy.GivesAll).
func (s *personPages) representativeGives(vs []mandates.View) (mandates.View, bool) {
	reps := make([]mandates.Representation, len(vs))
	for i, v := range vs {
		reps[i] = v.Representation
	}
	m := s.mandates.Service.Policy().GivesAll(reps, s.now())
	if m == nil {
		return mandates.View{}, false
	}
	i := slices.IndexFunc(vs, func(v mandates.View) bool { return v.ID == m.ID })
	return vs[i], true
}

// spaceProxyGiver is, for a person whose representative gives proxies for
// them, the words that name that representative: « Marie Martin, votre
// tutrice », and their name alone.
func (s *personPages) spaceProxyGiver(ctx context.Context, l *i18n.Localizer, lang string, of []mandates.View) (who, name string, err error) {
	m, ok := s.representativeGives(of)
	if !ok {
		return "", "", nil
	}
	h, ok, err := s.holderOfMeasure(ctx, m.PersonID, m.ID)
	if err != nil || !ok {
		return "", "", err
	}
	return h.words(l, lang, "your", m.PersonName), h.Name, nil
}

// The representative's requests: mandates and proxies waiting for their
// answer, in « Pour qui j’agis », one section a person.

type givingRequest struct {
	ID       string
	Version  int64  // what the representative read: their answer is to that
	Title    string // « Mandat d’aidant avec France Services Lyon 8e »
	What     string // who may do what, once in force
	Areas    []spaceArea
	Actions  []spaceActionLine // a proxy's: what the trusted person may do
	Duration string
	Asked    string // who asked, and when
	Rule     string // why the answer is the representative's
	IfYes    string
	IfNo     string
	Yes      string // the button's words
}

type givingGroup struct {
	Person string
	ID     string // the heading's id
	Items  []givingRequest
}

// givingRequests groups the requests waiting for the reader's answer by
// person, in the order RequestsAwaiting gives them (newest first).
func (s *personPages) givingRequests(r *http.Request, a mandates.Actor) ([]givingGroup, error) {
	ctx := r.Context()
	svc := s.mandates.Service
	views, err := svc.RequestsAwaiting(ctx, a)
	if err != nil {
		return nil, err
	}
	lang, l := s.spaceLocalizer(r)
	var out []givingGroup
	for _, v := range views {
		i := slices.IndexFunc(out, func(g givingGroup) bool { return g.Person == v.PersonName })
		if i < 0 {
			out = append(out, givingGroup{Person: v.PersonName, ID: "demandes-" + v.PersonID})
			i = len(out) - 1
		}
		item, err := s.givingRequestOf(ctx, l, lang, v)
		if err != nil {
			return nil, err
		}
		out[i].Items = append(out[i].Items, item)
	}
	return out, nil
}

func (s *personPages) givingRequestOf(ctx context.Context, l *i18n.Localizer, lang string, v mandates.View) (givingRequest, error) {
	person := map[string]any{"Person": v.PersonName, "Name": v.RepresentativeOf}
	g := givingRequest{ID: v.ID, Version: v.Version, Areas: spaceAreas(v.Areas, lang), Yes: translateData(l, "giving.request.yes", person), IfNo: translateData(l, "giving.request.if_no", person)}
	if d, ok := spaceSpan(&v.Representation); ok {
		g.Duration = locales.Duration(d).In(lang)
	}
	mandate := v.Kind == mandates.AidantMandate
	if mandate {
		if v.Organisation != nil {
			person["Name"] = v.Organisation.Name
		}
		g.Title = translateData(l, "giving.request.title_mandate", person)
		g.What = translateData(l, "giving.request.what_mandate", person)
		g.IfYes = translateData(l, "giving.request.if_yes", map[string]any{"Duration": g.Duration})
		g.IfNo = translateData(l, "giving.request.if_no_mandate", person)
	} else {
		g.Title = translateData(l, "giving.request.title_proxy", person)
		g.What = translateData(l, "giving.request.what_proxy", person)
		for _, a := range v.Granted {
			g.Actions = append(g.Actions, spaceActionLine{Label: locales.Action(a).In(lang), Answer: locales.Decision(mandates.Allowed).In(lang)})
		}
		g.IfYes = translateData(l, "giving.request.if_yes", map[string]any{"Duration": g.Duration})
		if c := v.Source.Consent; c == nil || c.AcceptedAt.IsZero() {
			g.IfYes = translateData(l, "giving.request.if_yes_holder", person)
		}
	}
	// Who asked: the person who gave a proxy, the aidant who witnessed the
	// person's consent, else the organisation (a list has no history).
	asked := map[string]any{"Name": v.RepresentativeOf, "Date": locales.FormatDate(v.CreatedAt, lang)}
	if v.Organisation != nil {
		asked["Name"] = v.Organisation.Name
	}
	if c := v.Source.Consent; c != nil || (v.Source.Measure != nil && v.Source.Measure.RequestedBy != "") {
		var id string
		switch {
		case v.Source.Measure != nil && v.Source.Measure.RequestedBy != "":
			id = v.Source.Measure.RequestedBy
		case mandate:
			id = c.WitnessID
		default:
			id = c.GivenBy
		}
		if id != "" {
			p, err := s.mandates.Service.Person(ctx, id)
			if err != nil && !errors.Is(err, mandates.ErrNotFound) {
				return g, err
			}
			if err == nil {
				asked["Name"] = mandates.DisplayName(p)
				if v.Organisation != nil {
					// « Sophie Bernard, de France Services Lyon 8e »
					asked["Name"] = translateData(l, "giving.request.asked_from", map[string]any{"Name": mandates.DisplayName(p), "Org": v.Organisation.Name})
				}
			}
		}
	}
	if asked["Name"] != "" {
		g.Asked = translateData(l, "giving.request.asked", asked)
	}
	u := v.Source.Measure
	if u == nil {
		return g, nil
	}
	kind := map[string]any{"Person": v.PersonName, "Kind": locales.KindThe(u.Kind).In(lang)}
	switch {
	case u.Giver == mandates.GivenByRepresentative && mandate:
		g.Rule = translateData(l, "giving.request.rule_gives_mandate", kind)
	case u.Giver == mandates.GivenByRepresentative:
		g.Rule = translateData(l, "giving.request.rule_gives_proxy", kind)
	default:
		if c := v.Source.Consent; c != nil && !c.GivenAt.IsZero() {
			kind["Date"] = locales.FormatDate(c.GivenAt, lang)
		}
		g.Rule = translateData(l, "giving.request.rule_agree", kind)
		// The curator agrees to what the person gave.
		g.Yes = translateData(l, "giving.request.yes_agree", person)
	}
	return g, nil
}

// spaceAnswerRequest records the representative's answer to a request for
// the person they represent: give (or agree), or refuse. Then « Pour qui
// j’agis » says what happened and what comes next.
func (s *personPages) spaceAnswerRequest(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requirePost(r)
	if err != nil {
		return err
	}
	vars := mux.Vars(r)
	id, accept := vars["id"], vars["answer"] == "accord"
	if !mandates.IsID(id) {
		return statusError(http.StatusNotFound)
	}
	// The answer is to the request as the representative read it: one
	// changed since (other areas, another length) is shown again.
	version, verr := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if verr != nil || version <= 0 {
		version = -1
	}
	rep, err := s.mandates.Service.AnswerForPerson(r.Context(), actor(sess), id, version, accept)
	switch {
	case errors.Is(err, mandates.ErrConflict):
		_, l := s.spaceLocalizer(r)
		s.refusal(w, r, http.StatusConflict, refusalData{
			Heading: translate(l, "giving.changed.heading"),
			Lead:    translate(l, "giving.changed.lead"),
			Links:   []refusalLink{{Href: forPath + "#demandes", Text: translate(l, "giving.changed.link")}}})
		return nil
	case errors.Is(err, mandates.ErrInactive):
		_, l := s.spaceLocalizer(r)
		s.refusal(w, r, http.StatusConflict, refusalData{
			Heading: translate(l, "giving.answered.heading"),
			Lead:    translate(l, "giving.answered.lead"),
			Why:     []string{translate(l, "giving.answered.why")},
			Links:   []refusalLink{{Href: forPath, Text: translate(l, "giving.answered.link")}}})
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(r.Context(), "request answered by the representative", "representation_id", id, "accepted", accept)
	done := "refus"
	if accept {
		done = "accord"
	}
	http.Redirect(w, r, forPath+"?"+url.Values{"r": {id}, "p": {rep.PersonID}, "fait": {done}}.Encode(), http.StatusSeeOther)
	return nil
}

// givingNotice is what « Pour qui j’agis » says after the representative
// answered request id for person, when it stands as the answer left it:
// the message and its data, or "".
func (s *personPages) givingNotice(r *http.Request, held []mandates.View, person, id, done string) (string, map[string]any, error) {
	// Only for a person the reader holds a measure over.
	if !mandates.IsID(person) || !slices.ContainsFunc(held, func(v mandates.View) bool { return v.Kind.IsMeasure() && v.PersonID == person }) {
		return "", nil, nil
	}
	views, err := s.mandates.Service.Of(r.Context(), person)
	if err != nil {
		return "", nil, err
	}
	i := slices.IndexFunc(views, func(v mandates.View) bool { return v.ID == id && !v.Kind.IsMeasure() })
	if i < 0 {
		return "", nil, nil
	}
	v := views[i]
	lang, l := s.spaceLocalizer(r)
	data := map[string]any{"Person": v.PersonName, "Name": v.RepresentativeOf}
	if v.Organisation != nil {
		data["Name"] = v.Organisation.Name
	}
	what := "mandate"
	if v.Kind == mandates.Proxy {
		what = "proxy"
	}
	u := v.Source.Measure
	switch {
	case done == "refus" && v.Status == mandates.StatusRevoked:
		return "giving.done.refused_" + what, data, nil
	case done == "procuration":
		if v.Kind == mandates.Proxy && v.Status == mandates.StatusPendingConsent && v.Waits() == mandates.WaitingHolder {
			return "giving.done.proxy_sent", data, nil
		}
	case done != "accord" || u == nil || u.AnsweredBy == "":
	case v.Status == mandates.StatusActive:
		data["Until"] = spaceCardOf(v, lang, l).Until
		return "giving.done.given_" + what, data, nil
	case v.Status == mandates.StatusPendingConsent && v.Waits() == mandates.WaitingHolder:
		return "giving.done.given_proxy_holder", data, nil
	}
	return "", nil, nil
}

// refusalData is a plain page for a request the domain refused: what
// happened, why, what to do, and where to go (STYLE-ANCHORS: one error
// layout, with the next actions).
type refusalData struct {
	Name      string // for the page's title
	Heading   string
	Lead      string
	Why       []string
	NextSteps []string
	Links     []refusalLink
}

type refusalLink struct{ Href, Text string }

// The aidant's pages.

// aidantWaiting fills the page of a mandate that waits for the
// representative under the person's measure: who must give it (tutelle)
// or agree to it after the person's consent (curatelle renforcée). The
// page then offers none of the person's ways to consent. It returns the
// page's title, or "" when the mandate waits for someone else.
func (s *aidantPages) aidantWaiting(r *http.Request, m aidantMandate, d *aidantMandateData) (string, error) {
	if m.rep.Waits() != mandates.WaitingRepresentative {
		return "", nil
	}
	if err := s.aidantHolder(r, m, d); err != nil {
		return "", err
	}
	d.State = "waiting_agreement"
	if m.rep.Source.Measure.Giver == mandates.GivenByRepresentative {
		d.State = "waiting_representative"
	}
	return "giving.aidant.title", nil
}

// aidantHolder names, for the aidant, who the mandate waits for.
func (s *aidantPages) aidantHolder(r *http.Request, m aidantMandate, d *aidantMandateData) error {
	lang, l := s.spaceLocalizer(r)
	person := m.view.PersonName
	h, ok, err := s.waitingHolder(r.Context(), &m.rep)
	switch {
	case err != nil:
		return err
	case ok:
		d.Holder, d.Who, d.Kind, d.Named = h.Name, h.words(l, lang, "of", person), locales.KindThe(h.Measure.Kind).In(lang), true
		d.KindCode = h.Measure.Kind
	default:
		d.Holder = translateData(l, "giving.who.unknown", map[string]any{"Person": person})
		d.Who = translateData(l, "giving.who.unknown_start", map[string]any{"Person": person})
		d.Kind = translate(l, "giving.who.a_measure")
		if u := m.rep.Source.Measure; u != nil {
			d.Kind, d.KindCode = locales.KindThe(u.Kind).In(lang), u.Kind
		}
	}
	return nil
}

// aidantRepresentativeGives is the page an aidant gets who still tries
// to collect the person's consent to a mandate that, under the person's
// measure, their representative gives (ErrRepresentativeGives; the
// service journaled the refusal).
func (s *aidantPages) aidantRepresentativeGives(w http.ResponseWriter, r *http.Request, m aidantMandate) error {
	var d aidantMandateData
	if err := s.aidantHolder(r, m, &d); err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	data := map[string]any{"Who": d.Who, "Named": d.Named, "Holder": d.Holder, "Name": m.view.PersonName, "Kind": d.Kind}
	var why []string
	if d.KindCode.IsMeasure() {
		// The measure is explained before « Avec la tutelle, c'est… ».
		why = append(why, kindMeans(l, lang, d.KindCode, m.view.PersonName))
	}
	s.refusal(w, r, http.StatusForbidden, refusalData{
		Heading:   translateData(l, "giving.consent_refused.heading", data),
		Lead:      translateData(l, "giving.aidant.gives", data),
		Why:       append(why, translateData(l, "giving.aidant.gives_why", data), translateData(l, "giving.consent_refused.not_recorded", data)),
		NextSteps: []string{translateData(l, "giving.aidant.tell", data), translateData(l, "giving.consent_refused.then", data)},
		Links: []refusalLink{{Href: aidantMandatePath(m.rep.ID), Text: translateData(l, "aidant.home.open", data)},
			{Href: aidantPath, Text: translate(l, "aidant.back_home")}}})
	return nil
}

type aidantChangeData struct {
	Card      spaceCard
	Name      string
	Existing  bool // reached by asking for a second mandate with the person
	InForce   bool
	Areas     []spaceChoice
	Durations []spaceChoice
	Problems  spaceProblems
	Action    string
}

// aidantChangeForm is the form that changes mandate m, with the areas and
// length chosen (its own when nothing is).
func (s *aidantPages) aidantChangeForm(r *http.Request, m aidantMandate, areas []string, duration string) aidantChangeData {
	lang, l := s.spaceLocalizer(r)
	var offered []mandates.Area
	for _, a := range mandates.Areas {
		if m.view.Organisation == nil || m.view.Organisation.Covers(a) {
			offered = append(offered, a)
		}
	}
	return aidantChangeData{Card: spaceCardOf(m.view, lang, l), Name: m.view.PersonName, InForce: m.view.Status == mandates.StatusActive,
		Areas: spaceAreaChoices(offered, areas, lang), Durations: spaceDurationChoices(duration, lang),
		Action: aidantMandatePath(m.rep.ID) + "/changer"}
}

// aidantExisting answers an aidant who asked for a second mandate with the
// same person (*mandates.OpenError): one already exists, in force or
// waiting, and the page offers to change that one, with what the aidant
// just chose.
func (s *aidantPages) aidantExisting(w http.ResponseWriter, r *http.Request, m aidantMandate, open *mandates.OpenError, areas []string, duration string) error {
	if err := s.reloadAidantMandate(r, &m, open.ID); err != nil {
		return err
	}
	d := s.aidantChangeForm(r, m, areas, duration)
	d.Existing = true
	s.render(w, r, http.StatusConflict, "aidant_change", "giving.existing.title", d)
	return nil
}

// aidantChangeMandate changes the areas and length of a mandate in force
// or waiting, rather than adding a second one: it then waits for consent
// again (the person's, or their representative's).
func (s *aidantPages) aidantChangeMandate(w http.ResponseWriter, r *http.Request) error {
	m, err := s.loadAidantMandate(r)
	if err != nil {
		return err
	}
	if spaceEnded(m.view.Status) {
		http.Redirect(w, r, aidantMandatePath(m.rep.ID), http.StatusSeeOther)
		return nil
	}
	if r.Method != http.MethodPost {
		var areas []string
		for _, a := range m.rep.Areas {
			areas = append(areas, string(a))
		}
		var duration string
		if d, ok := spaceSpan(&m.rep); ok {
			duration = string(d)
		}
		s.render(w, r, http.StatusOK, "aidant_change", "giving.change.title", s.aidantChangeForm(r, m, areas, duration))
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	f := r.PostForm
	d := s.aidantChangeForm(r, m, f["domaines"], f.Get("duree"))
	p := &d.Problems
	var covers func(mandates.Area) bool
	if o := m.view.Organisation; o != nil {
		covers = o.Covers
	}
	target := "domaine-"
	if len(d.Areas) > 0 {
		target += d.Areas[0].Value
	}
	areas := spaceChosenAreas(f["domaines"], covers, p, target)
	duration := spaceChosenDuration(f.Get("duree"), p)
	if p.Any() {
		s.render(w, r, http.StatusBadRequest, "aidant_change", "giving.change.title", d)
		return nil
	}
	_, err = s.mandates.Service.ChangeMandate(r.Context(), actor(m.sess), m.rep.ID, areas, duration)
	switch {
	case errors.Is(err, mandates.ErrSecondFactor):
		return errAidantSecondFactor
	case errors.Is(err, mandates.ErrInactive):
		http.Redirect(w, r, aidantMandatePath(m.rep.ID), http.StatusSeeOther)
		return nil
	case errors.Is(err, mandates.ErrInvalid):
		p.add("form", target, "space.form.err_invalid", nil)
		s.render(w, r, http.StatusBadRequest, "aidant_change", "giving.change.title", d)
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(r.Context(), "aidant mandate changed", "representation_id", m.rep.ID)
	http.Redirect(w, r, aidantMandatePath(m.rep.ID)+"?fait=change", http.StatusSeeOther)
	return nil
}

// givingHomeLink is the link of « Mon espace » to the requests waiting for
// the reader's answer as a representative, nil when none waits.
func (s *personPages) givingHomeLink(r *http.Request, a mandates.Actor) (*spaceLink, error) {
	views, err := s.mandates.Service.RequestsAwaiting(r.Context(), a)
	if err != nil || len(views) == 0 {
		return nil, err
	}
	var names []string
	for _, v := range views {
		if !slices.Contains(names, v.PersonName) {
			names = append(names, v.PersonName)
		}
	}
	_, l := s.spaceLocalizer(r)
	joined := names[0]
	for i, n := range names[1:] {
		key := "giving.and"
		if i < len(names)-2 {
			key = "giving.comma"
		}
		joined = translateData(l, key, map[string]any{"A": joined, "B": n})
	}
	return &spaceLink{Href: forPath + "#demandes", Label: "space.home.requests", Text: "space.home.requests_text",
		Data: map[string]any{"Names": joined, "Count": len(views)}}, nil
}

// The person's proxies.

// spaceProxyRefused answers a person whose proxy the service refused
// because, under their measure, their representative gives it
// (ErrRepresentativeGives): the page names who, and what to do.
func (s *personPages) spaceProxyRefused(w http.ResponseWriter, r *http.Request, d spaceProxyFormData) error {
	sess, _ := CurrentSession(r.Context())
	of, err := s.mandates.Service.Of(r.Context(), sess.PersonID)
	if err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	if d.Giver, d.GiverName, err = s.spaceProxyGiver(r.Context(), l, lang, of); err != nil {
		return err
	}
	d.Measure = true
	s.render(w, r, http.StatusForbidden, "space_proxy_new", "space.proxy.title", d)
	return nil
}

// spaceProxyExists answers a person who gives a second proxy to someone
// who already has one from them, in force or waiting
// (*mandates.OpenError): Relais keeps the one already there.
func (s *personPages) spaceProxyExists(w http.ResponseWriter, r *http.Request, open *mandates.OpenError, holder mandates.Person) error {
	_, l := s.spaceLocalizer(r)
	data := map[string]any{"Name": mandates.DisplayName(holder)}
	lead := "giving.proxy_exists.in_force"
	if open.Status != mandates.StatusActive {
		lead = "giving.proxy_exists.waiting"
	}
	s.refusal(w, r, http.StatusConflict, refusalData{
		Name:      mandates.DisplayName(holder),
		Heading:   translateData(l, "giving.proxy_exists.heading", data),
		Lead:      translateData(l, lead, data),
		Why:       []string{translateData(l, "giving.proxy_exists.one", data)},
		NextSteps: []string{translateData(l, "giving.proxy_exists.see", data), translateData(l, "giving.proxy_exists.change", data)},
		Links:     []refusalLink{{Href: ofPath, Text: translate(l, "space.proxy.measure_link")}}})
	return nil
}

// givingNeedCode is, for a reader who holds a measure through an
// organisation (a delegate of an MJPM service) and logged in without the
// second factor, the login that shows the requests waiting for them, then
// goes back to ret: such
// a measure is usable only with it (DESIGN.md §4). "" otherwise.
func givingNeedCode(sess authn.BrowserSession, held []mandates.View, ret string) string {
	if actor(sess).SecondFactor || !slices.ContainsFunc(held, func(v mandates.View) bool {
		return v.Kind.IsMeasure() && v.Representative.IsOrganisation() && !spaceEnded(v.Status)
	}) {
		return ""
	}
	return "/login?" + url.Values{"return": {ret}}.Encode()
}

// A tutor gives a proxy for the person (ProxyInput.ForPersonID): under
// tutelle the person gives none, their tutor does, from « Pour qui
// j’agis ».
const givingProxyPath = "/espace/pour/{person}/procuration/nouvelle"

// givingProxyLink is the path of the form that gives a proxy for the
// person of v, when v is a measure in force under which its holder (the
// reader) gives proxies for the person; "" otherwise.
func (s *personPages) givingProxyLink(v mandates.View) string {
	if v.Status != mandates.StatusActive || !s.mandates.Service.Policy().GivesFor(&v.Representation) {
		return ""
	}
	return "/espace/pour/" + v.PersonID + "/procuration/nouvelle"
}

// givingProxyFor is the name of the person a tutor gives a proxy for,
// when the reader holds such a measure over them; anyone else gets 404.
func (s *personPages) givingProxyFor(r *http.Request, sess authn.BrowserSession, personID string) (string, error) {
	if !mandates.IsID(personID) {
		return "", statusError(http.StatusNotFound)
	}
	held, err := s.mandates.Service.For(r.Context(), sess.PersonID)
	if err != nil {
		return "", err
	}
	for _, v := range held {
		if v.PersonID == personID && s.givingProxyLink(v) != "" {
			return v.PersonName, nil
		}
	}
	return "", statusError(http.StatusNotFound)
}

// givingGiven groups, by person, the mandates and proxies the reader gave
// as the representative under a measure (under tutelle), for the reader
// to stop: « Ce que vous avez donné pour Jeanne Lefèvre ».
func (s *personPages) givingGiven(r *http.Request, a mandates.Actor, held []mandates.View) ([]givingGroup, error) {
	ctx := r.Context()
	svc := s.mandates.Service
	lang, l := s.spaceLocalizer(r)
	var out []givingGroup
	seen := map[string]bool{}
	for _, m := range held {
		if seen[m.PersonID] || m.Status != mandates.StatusActive || !svc.Policy().GivesFor(&m.Representation) {
			continue
		}
		seen[m.PersonID] = true
		given, err := svc.GivenFor(ctx, a, m.PersonID)
		if err != nil || len(given) == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		g := givingGroup{Person: m.PersonName, ID: "donnes-" + m.PersonID}
		for _, v := range given {
			item, err := s.givingRequestOf(ctx, l, lang, v)
			if err != nil {
				return nil, err
			}
			key := "giving.given.stop_proxy"
			if v.Kind == mandates.AidantMandate {
				key = "giving.given.stop_mandate"
			}
			item.Yes = translateData(l, key, map[string]any{"Person": v.PersonName})
			g.Items = append(g.Items, item)
		}
		out = append(out, g)
	}
	return out, nil
}

// spaceStopGiven is the tutor stopping, at once, a mandate or a proxy they
// gave for the person (Withdraw asks the domain whether they may).
func (s *personPages) spaceStopGiven(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requirePost(r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if !mandates.IsID(id) {
		return statusError(http.StatusNotFound)
	}
	rep, err := s.mandates.Service.Withdraw(r.Context(), actor(sess), id)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "representation stopped by the representative", "representation_id", id)
	kind := "procuration"
	if rep.Kind == mandates.AidantMandate {
		kind = "mandat"
	}
	http.Redirect(w, r, forPath+"?"+url.Values{"fait": {"arrete"}, "p": {rep.PersonID}, "k": {kind}}.Encode(), http.StatusSeeOther)
	return nil
}

// givingStoppedNotice says what the tutor just stopped, for the person
// among the ones they represent; nothing for anyone else.
func givingStoppedNotice(held []mandates.View, personID, kind string) (string, map[string]any) {
	i := slices.IndexFunc(held, func(v mandates.View) bool { return v.PersonID == personID })
	if i < 0 {
		return "", nil
	}
	key := "giving.given.stopped_proxy"
	if kind == "mandat" {
		key = "giving.given.stopped_mandate"
	}
	return key, map[string]any{"Person": held[i].PersonName}
}
