package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// A person's own space (issue 5, point 5): what they can do here, who may
// act for them (and stopping a proxy or an aidant mandate at once), for
// whom they act (and answering a proxy), and giving a proxy. Pages a
// protected adult reads: plain words, one idea a sentence (PLAIN-LANGUAGE.md).
const (
	spacePath    = "/espace"
	ofPath       = "/espace/qui-agit-pour-moi"
	forPath      = "/espace/pour-qui-j-agis"
	proxyNewPath = "/espace/procuration/nouvelle"
)

// personPages are a person's own space (space.go) and what a
// representative gives or answers for the person they represent
// (giving.go).
type personPages struct{ *Server }

func (s *personPages) mountSpace(pages *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	pages.HandleFunc(spacePath, s.page(s.spaceHome)).Methods(get...)
	pages.HandleFunc(ofPath, s.page(s.spaceOf)).Methods(get...)
	pages.HandleFunc("/espace/representations/{id}/arreter", s.page(s.spaceStop)).Methods(append(get, http.MethodPost)...)
	pages.HandleFunc("/espace/representations/{id}/domaines/{area}/retirer", s.page(s.spaceStop)).Methods(append(get, http.MethodPost)...)
	pages.HandleFunc(forPath, s.page(s.spaceFor)).Methods(get...)
	pages.HandleFunc("/espace/procurations/{id}/{answer:accepter|refuser}", s.page(s.spaceAnswerProxy)).Methods(http.MethodPost)
	pages.HandleFunc("/espace/demandes/{id}/{answer:accord|refus}", s.page(s.spaceAnswerRequest)).Methods(http.MethodPost)
	pages.HandleFunc("/espace/donnes/{id}/arreter", s.page(s.spaceStopGiven)).Methods(http.MethodPost)
	pages.HandleFunc(proxyNewPath, s.page(s.spaceProxyPage)).Methods(get...)
	pages.HandleFunc(proxyNewPath, s.page(s.spaceGiveProxy)).Methods(http.MethodPost)
	// A tutor gives a proxy for the person (giving.go).
	pages.HandleFunc(givingProxyPath, s.page(s.spaceProxyPage)).Methods(get...)
	pages.HandleFunc(givingProxyPath, s.page(s.spaceGiveProxy)).Methods(http.MethodPost)
	pages.HandleFunc("/espace/procurations/{id}/envoyee", s.page(s.spaceProxySent)).Methods(get...)
}

// spaceLocalizer is the page language's catalogue, for words a handler
// prepares before the template runs.
func (s *Server) spaceLocalizer(r *http.Request) (string, *i18n.Localizer) {
	lang := requestLang(r)
	return lang, i18n.NewLocalizer(s.bundle, lang)
}

// spaceCard is one representation as a card shows it, every word already
// in the page's language.
type spaceCard struct {
	ID            string
	Who           string // the representative: a person's or an organisation's name
	Person        string // the represented person
	Kind          string
	Means         string // « Tutelle veut dire : … » (kindMeans)
	Role          string
	Org           string // the organisation holding it, if any
	Delegates     []string
	Actions       []spaceActionLine
	Areas         []spaceArea // empty: every area
	From, Until   string      // Until is empty when there is no set end
	Duration      string      // its length, for a proxy or an aidant mandate
	Status        string
	Tag           string // the tag's class modifier; the status is also written
	Ended         bool
	Measure       bool
	AidantMandate bool
	Proxy         bool
	Waiting       bool   // waiting for the person's consent or the trusted person's answer
	WaitsFor      string // waiting for the representative under the person's measure: who, in words
	CanStop       bool   // the represented person may stop it
	GiveProxy     string // a measure whose representative, the reader, gives proxies for the person: the form's path
	Journal       string // the represented person's journal, when the reader may read it: its path
	Decision      *spaceDecision
}

type spaceActionLine struct{ Label, Answer string }

type spaceArea struct {
	Code               mandates.Area
	Label, Description string
}

type spaceDecision struct {
	Jurisdiction, Date, Reference string
	// RG: the reference is a court's « numéro RG », whose two letters the
	// page explains before it uses them.
	RG bool
}

// spaceChoice is one checkbox, radio button or option of a form.
type spaceChoice struct {
	Value, Label, Hint string
	Checked            bool
}

// spaceProblem is one thing wrong with a form: its message, and the id of the
// field the error summary links to.
type spaceProblem struct {
	ID     string
	Data   map[string]any
	Target string
}

// spaceProblems keeps a form's problems in order, by field.
type spaceProblems struct {
	List []*spaceProblem
	By   map[string]*spaceProblem
}

func (f *spaceProblems) add(field, target, id string, data map[string]any) {
	if f.By == nil {
		f.By = map[string]*spaceProblem{}
	}
	if _, ok := f.By[field]; ok {
		return
	}
	p := &spaceProblem{ID: id, Data: data, Target: target}
	f.List = append(f.List, p)
	f.By[field] = p
}

func (f *spaceProblems) Any() bool { return len(f.List) > 0 }

// spaceSpan is the length a proxy or an aidant mandate was made for.
func spaceSpan(r *mandates.Representation) (mandates.Duration, bool) {
	for _, d := range mandates.Durations {
		if d.End(r.ValidFrom).Equal(r.ValidUntil) {
			return d, true
		}
	}
	return "", false
}

func spaceAreas(areas []mandates.Area, lang string) []spaceArea {
	out := make([]spaceArea, 0, len(areas))
	for _, a := range areas {
		if !a.Valid() {
			out = append(out, spaceArea{Code: a, Label: string(a)})
			continue
		}
		out = append(out, spaceArea{Code: a, Label: locales.Area(a).In(lang), Description: locales.AreaDescription(a).In(lang)})
	}
	return out
}

func spaceEnded(st mandates.Status) bool {
	return st == mandates.StatusRevoked || st == mandates.StatusExpired
}

func spaceStatusTag(st mandates.Status) string {
	switch st {
	case mandates.StatusActive:
		return ""
	case mandates.StatusRevoked, mandates.StatusExpired:
		return "tag--off"
	}
	return "tag--wait"
}

// spaceCardOf puts a representation in plain words.
func spaceCardOf(v mandates.View, lang string, l *i18n.Localizer) spaceCard {
	c := spaceCard{ID: v.ID, Who: v.RepresentativeOf, Person: v.PersonName, Kind: locales.Kind(v.Kind).In(lang),
		Role: roleOf(v).In(lang), Delegates: v.Delegates, Areas: spaceAreas(v.Areas, lang),
		Status: locales.Status(v.Status).In(lang), Tag: spaceStatusTag(v.Status), Ended: spaceEnded(v.Status), Measure: v.Kind.IsMeasure(),
		AidantMandate: v.Kind == mandates.AidantMandate, Proxy: v.Kind == mandates.Proxy}
	if v.Organisation != nil {
		c.Org = v.Organisation.Name
	}
	c.Means = kindMeans(l, lang, v.Kind, v.PersonName) // about the person, by name; own pages say « vous »
	c.Waiting = v.Status == mandates.StatusPendingConsent
	c.CanStop = !c.Measure && !c.Ended
	for _, a := range []mandates.Action{mandates.Consult, mandates.Manage, mandates.Dispose} {
		c.Actions = append(c.Actions, spaceActionLine{Label: locales.Action(a).In(lang), Answer: locales.Decision(v.Actions[a]).In(lang)})
	}
	c.From = locales.FormatDate(v.ValidFrom, lang)
	if !v.ValidUntil.IsZero() {
		if c.Measure {
			c.Until = locales.FormatDate(v.ValidUntil, lang)
		} else {
			// A mandate of one day ends at the hour it began: say the hour.
			c.Until = translateData(l, "space.date_at", map[string]any{
				"Date": locales.FormatDate(v.ValidUntil, lang), "Time": locales.FormatTime(v.ValidUntil, lang)})
		}
	}
	if d, ok := spaceSpan(&v.Representation); ok && !c.Measure {
		c.Duration = locales.Duration(d).In(lang)
	}
	if d := v.Source.Decision; d != nil {
		c.Decision = &spaceDecision{Jurisdiction: d.Jurisdiction, Date: locales.FormatDate(d.Date, lang), Reference: d.Reference,
			RG: slices.Contains(strings.Fields(strings.ToUpper(d.Reference)), "RG")}
	}
	return c
}

func spaceCardsOf(vs []mandates.View, lang string, l *i18n.Localizer) []spaceCard {
	out := make([]spaceCard, 0, len(vs))
	for _, v := range vs {
		out = append(out, spaceCardOf(v, lang, l))
	}
	return out
}

// spaceUnderMeasure says whether a court measure in force means that the
// person gives no proxy: their representative gives it for them (under
// tutelle; the policy's "give" rows). Under curatelle, the person gives
// it, with the curator's agreement where the measure asks it.
func (s *personPages) spaceUnderMeasure(vs []mandates.View) bool {
	_, ok := s.representativeGives(vs)
	return ok
}

type spaceLink struct {
	Href, Label, Text string // Label and Text are message ids
	Data              map[string]any
}

type spaceHomeData struct {
	Name string
	// Now is what waits for the person's answer (requests as a
	// representative, agreements asked of them, proxies offered to them);
	// Acting who may act for them today, each with the way to stop it where
	// they may. Both come first: what the person may need now.
	Now    []spaceLink
	Acting []spaceCard
	Links  []spaceLink
}

// spaceHomeNow lists what waits for the person's answer, for the top of
// « Mon espace »: the requests they answer as a representative under a
// measure, the agreements asked of them, the proxies offered to them.
func (s *personPages) spaceHomeNow(r *http.Request, a mandates.Actor, forViews []mandates.View) ([]spaceLink, error) {
	var now []spaceLink
	if link, err := s.givingHomeLink(r, a); err != nil {
		return nil, err
	} else if link != nil {
		now = append(now, *link)
	}
	asked, err := s.mandates.Service.CosignaturesAwaiting(r.Context(), a)
	if err != nil {
		return nil, err
	}
	switch {
	case len(asked) == 1:
		now = append(now, spaceLink{Href: cosignListPath, Label: "space.home.agreements", Text: "space.home.now_agreement"})
	case len(asked) > 1:
		now = append(now, spaceLink{Href: cosignListPath, Label: "space.home.agreements", Text: "space.home.now_agreements",
			Data: map[string]any{"Count": len(asked)}})
	}
	for _, v := range forViews {
		if v.AwaitsHolder(a.PersonID) {
			now = append(now, spaceLink{Href: forPath + "#a-repondre", Label: "space.for.proposal", Text: "space.home.now_proposal",
				Data: map[string]any{"Name": v.PersonName}})
		}
	}
	return now, nil
}

// spaceHome is "Mon espace": first what waits for the person and who may
// act for them (with the way to stop a proxy or an aidant mandate), then
// plain links to everything they can do here.
func (s *personPages) spaceHome(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	svc := s.mandates.Service
	me, err := svc.Person(ctx, sess.PersonID)
	if err != nil {
		return err
	}
	of, err := svc.Of(ctx, me.ID)
	if err != nil {
		return err
	}
	forViews, err := svc.For(ctx, me.ID)
	if err != nil {
		return err
	}
	ms, err := svc.MembershipsOf(ctx, me.ID)
	if err != nil {
		return err
	}
	operator, err := svc.IsOperator(ctx, me.ID)
	if err != nil {
		return err
	}
	d := spaceHomeData{Name: mandates.DisplayName(me)}
	if d.Now, err = s.spaceHomeNow(r, actor(sess), forViews); err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	for _, v := range of {
		if c := spaceCardOf(v, lang, l); !c.Ended {
			c.Means = kindMeans(l, lang, v.Kind, "")
			d.Acting = append(d.Acting, c)
		}
	}
	d.Links = append(d.Links, spaceLink{Href: ofPath, Label: "space.home.of", Text: "space.home.of_text"})
	if s.mandates.Journal != nil {
		d.Links = append(d.Links, spaceLink{Href: "/espace/journal", Label: "space.home.journal", Text: "space.home.journal_text"})
	}
	d.Links = append(d.Links, spaceLink{Href: "/espace/accords", Label: "space.home.agreements", Text: "space.home.agreements_text"})
	if upstreamOf(s.oidc).franceConnect() != nil {
		d.Links = append(d.Links, spaceLink{Href: loginsPath, Label: "upstream.logins.link", Text: "upstream.logins.link_text"})
	}
	if s.mandates.Letters != nil {
		letters, err := (&letterPages{s.Server}).links(r, actor(sess), forViews)
		if err != nil {
			return err
		}
		d.Links = append(d.Links, letters...)
	}
	if len(forViews) > 0 {
		d.Links = append(d.Links, spaceLink{Href: forPath, Label: "space.home.for", Text: "space.home.for_text"})
	}
	if !s.spaceUnderMeasure(of) {
		d.Links = append(d.Links, spaceLink{Href: proxyNewPath, Label: "space.home.proxy", Text: "space.home.proxy_text"})
	}
	aidant := slices.ContainsFunc(ms, func(m mandates.MembershipView) bool { return m.Active })
	if aidant {
		d.Links = append(d.Links, spaceLink{Href: aidantPath, Label: "space.home.aidant", Text: "space.home.aidant_text"})
	}
	for _, m := range ms {
		if m.Active && m.Role == mandates.MemberAdmin {
			d.Links = append(d.Links, spaceLink{Href: "/structure/" + m.OrganisationID, Label: "space.home.org",
				Text: "space.home.org_text", Data: map[string]any{"Name": m.Organisation.Name}})
		}
	}
	if operator {
		d.Links = append(d.Links, spaceLink{Href: "/operateur", Label: "space.home.operator", Text: "space.home.operator_text"})
	}
	if s.oidc.TOTP != nil {
		d.Links = append(d.Links, spaceLink{Href: totpPath, Label: "space.home.totp", Text: "space.home.totp_text"})
	}
	s.render(w, r, http.StatusOK, "space_home", "space.home.title", d)
	return nil
}

type spaceOfData struct {
	Current, Ended []spaceCard
	Measure        bool   // under a court measure: no proxy to give
	Notice         string // message id of what just happened, or ""
	NoticeData     map[string]any
}

// spaceOf is "Qui peut agir pour moi ?": every representation of the
// person, newest first, those in force before those that ended.
func (s *personPages) spaceOf(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	views, err := s.mandates.Service.Of(r.Context(), sess.PersonID)
	if err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	d := spaceOfData{Measure: s.spaceUnderMeasure(views)}
	for _, v := range views {
		c := spaceCardOf(v, lang, l)
		c.Means = kindMeans(l, lang, v.Kind, "") // the reader's own page: « pour vous »
		if c.WaitsFor, err = s.spaceWaitsFor(r.Context(), l, lang, v); err != nil {
			return err
		}
		if c.Ended {
			d.Ended = append(d.Ended, c)
		} else {
			d.Current = append(d.Current, c)
		}
	}
	// The notice says what the person just did; it is shown only when the
	// representation is in the state it describes.
	q := r.URL.Query()
	for _, v := range views {
		if v.ID != q.Get("r") {
			continue
		}
		switch area := mandates.Area(q.Get("domaine")); {
		case q.Get("fait") == "arret" && v.Status == mandates.StatusRevoked:
			d.Notice, d.NoticeData = "space.of.done_stop", map[string]any{"Name": v.RepresentativeOf}
		case q.Get("fait") == "domaine" && area.Valid() && !slices.Contains(v.Areas, area):
			d.Notice, d.NoticeData = "space.of.done_area", map[string]any{"Name": v.RepresentativeOf, "Area": locales.Area(area).In(lang)}
		}
	}
	s.render(w, r, http.StatusOK, "space_of", "space.of.title", d)
	return nil
}

type spaceStopData struct {
	Card   spaceCard
	Name   string     // for the title
	Area   *spaceArea // withdrawing this area only
	Left   []spaceArea
	State  string // "confirm", "measure" (a judge decided it) or "ended"
	Action string
}

// spaceStop is the confirmation page before the person stops a
// proxy or an aidant mandate (or one of its areas), and its answer. A
// court measure cannot be stopped here: the page says who decides it.
func (s *personPages) spaceStop(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	vars := mux.Vars(r)
	id, area := vars["id"], mandates.Area(vars["area"])
	if !mandates.IsID(id) {
		return statusError(http.StatusNotFound)
	}
	views, err := s.mandates.Service.Of(ctx, sess.PersonID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(views, func(v mandates.View) bool { return v.ID == id })
	if i < 0 {
		// Someone else's, or none: nobody learns which.
		return statusError(http.StatusNotFound)
	}
	v := views[i]
	if area != "" && !slices.Contains(v.Areas, area) {
		return statusError(http.StatusNotFound)
	}
	lang, l := s.spaceLocalizer(r)
	d := spaceStopData{Card: spaceCardOf(v, lang, l), Name: v.RepresentativeOf, State: "confirm", Action: r.URL.Path}
	d.Card.Means = kindMeans(l, lang, v.Kind, "")
	if area != "" {
		d.Area = &spaceAreas([]mandates.Area{area}, lang)[0]
		d.Left = spaceAreas(slices.DeleteFunc(slices.Clone(v.Areas), func(a mandates.Area) bool { return a == area }), lang)
	}
	switch {
	case v.Kind.IsMeasure():
		d.State = "measure"
		s.render(w, r, http.StatusForbidden, "space_stop", "space.stop.measure_title", d)
		return nil
	case spaceEnded(v.Status):
		d.State = "ended"
		s.render(w, r, http.StatusConflict, "space_stop", "space.stop.ended_title", d)
		return nil
	}
	title := "space.stop.title"
	if area != "" {
		title = "space.stop.area_title"
	}
	if r.Method != http.MethodPost {
		s.render(w, r, http.StatusOK, "space_stop", title, d)
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	a := actor(sess)
	back := url.Values{"r": {id}}
	if area == "" {
		_, err = s.mandates.Service.Withdraw(ctx, a, id)
		back.Set("fait", "arret")
	} else {
		_, err = s.mandates.Service.WithdrawArea(ctx, a, id, area)
		back.Set("fait", "domaine")
		back.Set("domaine", string(area))
	}
	switch {
	case errors.Is(err, mandates.ErrNotPermitted):
		d.State = "measure"
		s.render(w, r, http.StatusForbidden, "space_stop", "space.stop.measure_title", d)
		return nil
	case errors.Is(err, mandates.ErrInactive):
		d.State = "ended"
		s.render(w, r, http.StatusConflict, "space_stop", "space.stop.ended_title", d)
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(ctx, "representation withdrawn by the person", "representation_id", id, "area", string(area))
	http.Redirect(w, r, ofPath+"?"+back.Encode(), http.StatusSeeOther)
	return nil
}

type spaceForData struct {
	Requests                []givingGroup // waiting for the reader's answer as a representative
	Given                   []givingGroup // what the reader gave for the people they represent, to stop
	NeedCode                string        // a login with the second factor would show the requests of an organisation's measures: where to log in
	Waiting, Current, Ended []spaceCard
	Notice                  string
	NoticeData              map[string]any
	Problem                 string
}

// spaceFor is "Pour qui j’agis": the representations the person holds,
// in their own name (a family tutor, a trusted person) or through an
// organisation; proxies waiting for their answer come first.
func (s *personPages) spaceFor(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	views, err := s.mandates.Service.For(r.Context(), sess.PersonID)
	if err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	var d spaceForData
	if d.Requests, err = s.givingRequests(r, actor(sess)); err != nil {
		return err
	}
	if d.Given, err = s.givingGiven(r, actor(sess), views); err != nil {
		return err
	}
	d.NeedCode = givingNeedCode(sess, views, forPath)
	journals := map[string]string{}
	for _, v := range views {
		c := spaceCardOf(v, lang, l)
		c.GiveProxy = s.givingProxyLink(v)
		switch {
		case v.AwaitsHolder(sess.PersonID):
			d.Waiting = append(d.Waiting, c)
		case c.Ended:
			d.Ended = append(d.Ended, c)
		default:
			if c.Journal, err = s.spaceJournalLink(r, actor(sess), v.PersonID, journals); err != nil {
				return err
			}
			d.Current = append(d.Current, c)
		}
	}
	q := r.URL.Query()
	for _, v := range views {
		if v.ID != q.Get("r") || v.Kind != mandates.Proxy {
			continue
		}
		switch {
		case q.Get("fait") == "accepte" && v.Status == mandates.StatusActive:
			d.Notice, d.NoticeData = "space.for.done_accept", map[string]any{"Name": v.PersonName, "Until": spaceCardOf(v, lang, l).Until}
		case q.Get("fait") == "refuse" && v.Status == mandates.StatusRevoked:
			d.Notice, d.NoticeData = "space.for.done_decline", map[string]any{"Name": v.PersonName}
		}
	}
	if q.Get("fait") == "deja" {
		d.Problem = "space.for.not_waiting"
	}
	if q.Get("fait") == "arrete" {
		d.Notice, d.NoticeData = givingStoppedNotice(views, q.Get("p"), q.Get("k"))
	}
	if f := q.Get("fait"); f == "accord" || f == "refus" || f == "procuration" {
		if d.Notice, d.NoticeData, err = s.givingNotice(r, views, q.Get("p"), q.Get("r"), f); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "space_for", "space.for.title", d)
	return nil
}

// spaceJournalLink is the path of person's journal when the reader may
// read some of it, as the domain says (Service.JournalScope), and "" when
// the page would answer 404 (nothing to read) or ask for a second factor
// first. known keeps the answers by person: one question per person.
func (s *personPages) spaceJournalLink(r *http.Request, a mandates.Actor, person string, known map[string]string) (string, error) {
	if s.mandates.Journal == nil {
		return "", nil
	}
	if link, ok := known[person]; ok {
		return link, nil
	}
	_, err := s.mandates.Service.JournalScope(r.Context(), a, person)
	switch {
	case errors.Is(err, mandates.ErrNotFound) || errors.Is(err, mandates.ErrSecondFactor):
		known[person] = ""
	case err != nil:
		return "", err
	default:
		known[person] = journalPath + "/" + person
	}
	return known[person], nil
}

// spaceAnswerProxy records the trusted person's answer to a proxy.
func (s *personPages) spaceAnswerProxy(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requirePost(r)
	if err != nil {
		return err
	}
	vars := mux.Vars(r)
	id, accept := vars["id"], vars["answer"] == "accepter"
	if !mandates.IsID(id) {
		return statusError(http.StatusNotFound)
	}
	_, err = s.mandates.Service.AnswerProxy(r.Context(), actor(sess), id, accept)
	back := url.Values{"r": {id}, "fait": {"refuse"}}
	if accept {
		back.Set("fait", "accepte")
	}
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return statusError(http.StatusNotFound)
	case errors.Is(err, mandates.ErrInactive):
		back = url.Values{"fait": {"deja"}}
	case err != nil:
		return err
	}
	http.Redirect(w, r, forPath+"?"+back.Encode(), http.StatusSeeOther)
	return nil
}

type spaceProxyFormData struct {
	Email     string
	Areas     []spaceChoice
	Granted   []spaceChoice
	Durations []spaceChoice
	Problems  spaceProblems
	Measure   bool // the person is under a measure: no proxy
	// Under a measure whose representative gives proxies: the words that
	// name them (« Marie Martin, votre tutrice ») and their name.
	Giver, GiverName string
	// For is the person a tutor gives the proxy for ("": the reader's
	// own), Action the form's path.
	For, ForID, Action string
	// Kept is the message id that says the form was filled with what the
	// person wrote before (keep.go), or "".
	Kept string
}

func spaceGrantedChoices(chosen []string, lang string) []spaceChoice {
	var out []spaceChoice
	for _, a := range []mandates.Action{mandates.Consult, mandates.Manage} {
		out = append(out, spaceChoice{Value: string(a), Label: locales.Action(a).In(lang), Checked: slices.Contains(chosen, string(a))})
	}
	return out
}

func spaceAreaChoices(allowed []mandates.Area, chosen []string, lang string) []spaceChoice {
	var out []spaceChoice
	for _, a := range allowed {
		out = append(out, spaceChoice{Value: string(a), Label: locales.Area(a).In(lang), Hint: locales.AreaDescription(a).In(lang),
			Checked: slices.Contains(chosen, string(a))})
	}
	return out
}

func spaceDurationChoices(chosen string, lang string) []spaceChoice {
	var out []spaceChoice
	for _, d := range mandates.Durations {
		out = append(out, spaceChoice{Value: string(d), Label: locales.Duration(d).In(lang), Checked: string(d) == chosen})
	}
	return out
}

func (s *personPages) spaceNewProxyForm(r *http.Request, email string, areas, granted []string, duration string) spaceProxyFormData {
	lang := requestLang(r)
	return spaceProxyFormData{Email: email, Areas: spaceAreaChoices(mandates.Areas, areas, lang), Granted: spaceGrantedChoices(granted, lang),
		Durations: spaceDurationChoices(duration, lang), Action: proxyNewPath}
}

func (s *personPages) spaceProxyPage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	// A form kept after the session ended, or across the language
	// switch, fills the form again; it is only shown, never sent.
	kept, notice := s.keeping().keptForm(w, r)
	newForm := func() spaceProxyFormData {
		d := s.spaceNewProxyForm(r, strings.TrimSpace(kept.Get("email")), kept["domaines"], kept["droits"], kept.Get("duree"))
		d.Kept = notice
		return d
	}
	if forID := mux.Vars(r)["person"]; forID != "" {
		d := newForm()
		if d.For, err = s.givingProxyFor(r, sess, forID); err != nil {
			return err
		}
		d.ForID, d.Action = forID, r.URL.Path
		s.render(w, r, http.StatusOK, "space_proxy_new", "giving.tutor_proxy.title", d)
		return nil
	}
	of, err := s.mandates.Service.Of(r.Context(), sess.PersonID)
	if err != nil {
		return err
	}
	d := newForm()
	d.Measure = s.spaceUnderMeasure(of)
	lang, l := s.spaceLocalizer(r)
	if d.Giver, d.GiverName, err = s.spaceProxyGiver(r.Context(), l, lang, of); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "space_proxy_new", "space.proxy.title", d)
	return nil
}

// spaceChosenAreas reads the areas of a form: at least one, each known and
// once, and (when covers is set) each one it allows.
func spaceChosenAreas(values []string, covers func(mandates.Area) bool, p *spaceProblems, target string) []mandates.Area {
	var out []mandates.Area
	for _, v := range values {
		a := mandates.Area(v)
		if !a.Valid() || slices.Contains(out, a) || (covers != nil && !covers(a)) {
			p.add("areas", target, "space.form.err_areas_unknown", nil)
			return nil
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		p.add("areas", target, "space.form.err_areas_empty", nil)
	}
	return out
}

func spaceChosenDuration(v string, p *spaceProblems) mandates.Duration {
	d := mandates.Duration(v)
	switch {
	case v == "":
		p.add("duration", "duree-"+string(mandates.Durations[0]), "space.form.err_duration_empty", nil)
	case !d.Valid():
		p.add("duration", "duree-"+string(mandates.Durations[0]), "space.form.err_duration_unknown", nil)
	}
	return d
}

// spacePersonByEmail finds the account a form names; a problem says why not.
func (s *personPages) spacePersonByEmail(r *http.Request, email, self string, p *spaceProblems, selfMessage string) (mandates.Person, error) {
	switch {
	case email == "":
		p.add("email", "email", "space.form.err_email_empty", nil)
		return mandates.Person{}, nil
	case len(email) > 320:
		p.add("email", "email", "space.form.err_email_unknown", map[string]any{"Email": email[:320]})
		return mandates.Person{}, nil
	}
	person, err := s.mandates.Service.PersonByEmail(r.Context(), email)
	switch {
	case errors.Is(err, mandates.ErrNotFound) || errors.Is(err, mandates.ErrInvalid):
		p.add("email", "email", "space.form.err_email_unknown", map[string]any{"Email": email})
		return person, nil
	case err != nil:
		return person, err
	case person.ID == self:
		p.add("email", "email", selfMessage, nil)
	}
	return person, nil
}

// spaceGiveProxy checks the whole form, so every problem is shown at once and
// nothing is written until all is right.
func (s *personPages) spaceGiveProxy(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requirePost(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f := r.PostForm
	email := strings.TrimSpace(f.Get("email"))
	d := s.spaceNewProxyForm(r, email, f["domaines"], f["droits"], f.Get("duree"))
	title := "space.proxy.title"
	if forID := mux.Vars(r)["person"]; forID != "" {
		if d.For, err = s.givingProxyFor(r, sess, forID); err != nil {
			return err
		}
		d.ForID, d.Action, title = forID, r.URL.Path, "giving.tutor_proxy.title"
	}
	p := &d.Problems
	holder, err := s.spacePersonByEmail(r, email, sess.PersonID, p, "space.proxy.err_self")
	if err != nil {
		return err
	}
	if d.ForID != "" && holder.ID == d.ForID {
		p.add("email", "email", "giving.tutor_proxy.err_person", map[string]any{"Name": d.For})
	}
	areas := spaceChosenAreas(f["domaines"], nil, p, "domaine-"+string(mandates.Areas[0]))
	var granted []mandates.Action
	for _, v := range f["droits"] {
		a := mandates.Action(v)
		if (a != mandates.Consult && a != mandates.Manage) || slices.Contains(granted, a) {
			p.add("granted", "droit-consult", "space.proxy.err_granted_unknown", nil)
			granted = nil
			break
		}
		granted = append(granted, a)
	}
	if len(granted) == 0 {
		p.add("granted", "droit-consult", "space.proxy.err_granted_empty", nil)
	}
	duration := spaceChosenDuration(f.Get("duree"), p)
	if p.Any() {
		if d.ForID == "" {
			// Under tutelle the page to show is who gives it, whatever
			// the form says.
			of, err := s.mandates.Service.Of(ctx, sess.PersonID)
			if err != nil {
				return err
			}
			if s.spaceUnderMeasure(of) {
				return s.spaceProxyRefused(w, r, d)
			}
		}
		s.render(w, r, http.StatusBadRequest, "space_proxy_new", title, d)
		return nil
	}
	// The service decides whether the person gives it (and journals a
	// refusal): under tutelle, their tutor does.
	rep, err := s.mandates.Service.GiveProxy(ctx, actor(sess), mandates.ProxyInput{HolderID: holder.ID, Areas: areas, Granted: granted, Duration: duration,
		ForPersonID: d.ForID})
	var open *mandates.OpenError
	switch {
	case d.ForID != "" && errors.Is(err, mandates.ErrNotPermitted):
		// Not, or no longer, the person's tutor.
		return statusError(http.StatusNotFound)
	case errors.Is(err, mandates.ErrRepresentativeGives) || errors.Is(err, mandates.ErrNotPermitted):
		return s.spaceProxyRefused(w, r, d)
	case errors.As(err, &open):
		return s.spaceProxyExists(w, r, open, holder)
	case errors.Is(err, mandates.ErrInvalid):
		p.add("form", "email", "space.form.err_invalid", nil)
		s.render(w, r, http.StatusBadRequest, "space_proxy_new", title, d)
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(ctx, "proxy given", "representation_id", rep.ID)
	if d.ForID != "" {
		http.Redirect(w, r, forPath+"?"+url.Values{"r": {rep.ID}, "p": {d.ForID}, "fait": {"procuration"}}.Encode(), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/espace/procurations/"+rep.ID+"/envoyee", http.StatusSeeOther)
	return nil
}

type spaceProxySentData struct {
	Card spaceCard
	Name string
}

// spaceProxySent says the proxy waits for the trusted person's answer.
func (s *personPages) spaceProxySent(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if !mandates.IsID(id) {
		return statusError(http.StatusNotFound)
	}
	views, err := s.mandates.Service.Of(r.Context(), sess.PersonID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(views, func(v mandates.View) bool { return v.ID == id && v.Kind == mandates.Proxy })
	if i < 0 {
		return statusError(http.StatusNotFound)
	}
	lang, l := s.spaceLocalizer(r)
	c := spaceCardOf(views[i], lang, l)
	c.Means = kindMeans(l, lang, views[i].Kind, "")
	if c.WaitsFor, err = s.spaceWaitsFor(r.Context(), l, lang, views[i]); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "space_proxy_sent", "space.sent.title", spaceProxySentData{Card: c, Name: c.Who})
	return nil
}
