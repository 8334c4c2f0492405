package ui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	"github.com/relais-fr/relais/mandates/journal"
)

// "Mon journal" (issue 7, point 5): each entry of a journal as one plain
// sentence, newest first, with filters by who acted and by site, a page at
// a time; the person's export with its proofs and a page to print. A
// representative reads the journal of a person they act for when their
// representation lets them consult, and prints what they read; one who
// may consult every area also gets the export, which must hold the whole
// chain for its proofs to verify. An organisation's administrator reads
// what its aidants did; an operator reads the administrative chain.
// Anyone else gets 404, so nobody learns whose journal exists.
//
// The export carries the latest signed checkpoint. Relais does not sign a
// checkpoint for an export: anyone signed in could then make Relais sign
// at will. Entries written since the last checkpoint are in the export,
// linked to the chain but not yet signed; relais serve signs a checkpoint
// every --journal-checkpoint-interval, and the page says so.

// JournalReader is what the journal's pages read: pages of entries, and a
// chain and its checkpoints for the export.
type JournalReader interface {
	journal.Pager
	journal.Reader
}

const (
	journalPath     = "/espace/journal"
	journalPageSize = 20
	// journalPrintMax bounds the printed journal: beyond, the export holds
	// everything.
	journalPrintMax = 1000
)

// journalPages are the journal's pages: a person's own, a represented
// person's, an organisation's and the administrative chain.
type journalPages struct{ *Server }

func (s *journalPages) mountJournal(pages *mux.Router) {
	if s.mandates == nil || s.mandates.Journal == nil {
		return
	}
	get := []string{http.MethodGet, http.MethodHead}
	pages.HandleFunc(journalPath, s.page(s.journalOwn)).Methods(get...)
	pages.HandleFunc(journalPath+"/export.json", s.page(s.journalExport)).Methods(get...)
	pages.HandleFunc(journalPath+"/imprimer", s.page(s.journalPrint)).Methods(get...)
	pages.HandleFunc(journalPath+"/{person}", s.page(s.journalOfPerson)).Methods(get...)
	pages.HandleFunc(journalPath+"/{person}/export.json", s.page(s.journalExportOf)).Methods(get...)
	pages.HandleFunc(journalPath+"/{person}/imprimer", s.page(s.journalPrintOf)).Methods(get...)
	pages.HandleFunc("/structure/{id}/journal", s.page(s.journalOfOrganisation)).Methods(get...)
	pages.HandleFunc("/operateur/journal", s.page(s.journalAdmin)).Methods(get...)
}

// journalLine is one entry as the page shows it.
type journalLine struct {
	When     string // "3 mars 2027 à 14 h 05"
	Time     string // "14 h 05", under the day's heading
	Datetime string // for <time datetime>
	Text     string
	Areas    string // the procedure areas, named
	Erased   bool
	// Refused: Relais said no (a site's check, a request); Next says what
	// the reader can do now, and NextLink where (PLAIN-LANGUAGE.md: every
	// refusal followed by what to do next).
	Refused  bool
	Next     string
	NextLink *refusalLink
}

type journalOption struct {
	Value, Label string
	Selected     bool
}

type journalData struct {
	Heading  string
	Lead     string
	Action   string // the page's path, for the filter form
	Keep     *journalKeep
	Partial  []string      // for a representative limited to some areas: what they see, and why no export
	Lines    []journalLine // the print's lines, in order
	Words    []string      // what the measures the lines name mean, before the lines (kindWords)
	Days     []journalDay  // the page's entries by day, checks folded (journal_days.go)
	ForMe    *journalForMe
	Who      []journalOption
	Sites    []journalOption
	Filtered bool
	Older    string // the link to the next page, or ""
	Newest   string // the link back to the first page, when paged
	Person   string // whose journal, for print
	Printed  string // date of printing
	Limited  string // says the printed journal stops at journalPrintMax entries
	Back     string // the print page's link back to the journal, and its words
	BackText string
	Proof    string // how to prove the printed journal exact
	Own      bool   // the reader's own journal ("votre journal est vide")
}

// journalForMe is the filter « Ce qui a été fait pour moi »: the acts
// others did for the journal's person, as the sites reported them.
type journalForMe struct {
	Label, Hint string
	Checked     bool
}

// journalKeep is how the reader keeps a journal they may read whole or in
// part: a page to print, and the export when they may read it all.
type journalKeep struct {
	Title                          string
	Print, PrintText, PrintHint    string
	Export, ExportText, ExportHint string // Export is "" when the reader may not export
}

// journalView names people and sites once per page.
type journalView struct {
	s       *Server
	r       *http.Request
	lang    string
	loc     *i18n.Localizer
	viewer  string // the signed-in person
	owner   string // whose journal ("" for an organisation's or the admin chain)
	names   map[string]string
	sites   map[string]string
	reps    map[string]*mandates.Representation // nil: the reader may not see it
	allowed mandates.JournalScope               // what the reader may see, as the domain says; zero: all
	of      map[string][]mandates.View          // a person's representations, for who gave what (journal_giving.go)
}

func (s *journalPages) newJournalView(r *http.Request, viewer, owner string) *journalView {
	return &journalView{s: s.Server, r: r, lang: requestLang(r), loc: s.localizer(r), viewer: viewer, owner: owner,
		names: map[string]string{}, sites: map[string]string{}, reps: map[string]*mandates.Representation{}}
}

func (v *journalView) msg(id string, data map[string]any) string {
	return translateData(v.loc, id, data)
}

// elide writes « d’ » for « de » before a name with a vowel sound, in
// French (elideFrench).
func (v *journalView) elide(s string) string {
	if v.lang != "fr" {
		return s
	}
	return elideFrench(s)
}

// person is a person's name; "" when unknown.
func (v *journalView) person(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := v.names[id]; ok {
		return n
	}
	n := ""
	if p, err := v.s.mandates.Service.Person(v.r.Context(), id); err == nil {
		n = mandates.DisplayName(p)
	}
	v.names[id] = n
	return n
}

// site is a site's name as registered; its id when it has none.
func (v *journalView) site(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := v.sites[id]; ok {
		return n
	}
	n := nameOfSite(v.r.Context(), v.s.oidc, id)
	v.sites[id] = n
	return n
}

// representation is the representation an entry names, when the reader
// may see it (the service decides), else nil.
func (v *journalView) representation(id string) *mandates.Representation {
	if id == "" {
		return nil
	}
	if r, ok := v.reps[id]; ok {
		return r
	}
	var rep *mandates.Representation
	if r, err := v.s.mandates.Service.Representation(v.r.Context(), v.viewer, id); err == nil {
		rep = &r
	}
	v.reps[id] = rep
	return rep
}

// kindWords says what each measure the lines read so far name means
// (« Tutelle veut dire : … »), once each, so that the legal word is
// explained before the lines use it (PLAIN-LANGUAGE.md).
func (v *journalView) kindWords() []string {
	var kinds []measureOf
	for _, r := range v.reps {
		if r == nil || !r.Kind.IsMeasure() {
			continue
		}
		k := measureOf{Kind: r.Kind} // the reader's own measure: « pour vous »
		if r.PersonID != v.viewer {
			k.Name = v.person(r.PersonID)
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.SortFunc(kinds, func(a, b measureOf) int { return strings.Compare(string(a.Kind)+a.Name, string(b.Kind)+b.Name) })
	var out []string
	for _, k := range kinds {
		out = append(out, kindMeans(v.loc, v.lang, k.Kind, k.Name))
	}
	return out
}

// kind is the representation's kind in a sentence ("la tutelle"), as far
// as the reader may see it.
func (v *journalView) kind(repID string) string {
	if r := v.representation(repID); r != nil {
		if t := locales.KindThe(r.Kind).In(v.lang); t != "" {
			return t
		}
	}
	return v.msg("journal.a_representation", nil)
}

// role says what the actor of e is to the represented person, from the
// representation e names: "qui exerce votre tutelle". Persons have no
// stored gender, so the words never depend on one. It is "" when the
// actor is the journal's owner or the reader, when the reader may not see
// the representation or the actor does not hold it (an operator who
// registered it), and for the representation's own events, whose
// sentence names it already.
func (v *journalView) role(e journal.Stored) string {
	if e.ActorID == "" || e.ActorID == v.viewer || e.ActorID == v.owner || strings.HasPrefix(string(e.Type), "representation.") {
		return ""
	}
	r := v.representation(e.RepresentationID)
	if r == nil || e.ActorID == r.PersonID {
		return ""
	}
	holder := r.Representative
	if holder.PersonID != e.ActorID && (!holder.IsOrganisation() ||
		e.OrganisationID != holder.OrganisationID && !slices.Contains(holder.Delegates, e.ActorID)) {
		return ""
	}
	// A subrogé watches over the measure rather than exercising it.
	key := "journal.role." + string(r.Kind)
	if r.Role == mandates.RoleSubrogeTuteur || r.Role == mandates.RoleSubrogeCurateur {
		key = "journal.role." + string(r.Role)
	}
	if r.PersonID == v.viewer {
		return v.msg(key+".your", nil)
	}
	name := v.person(r.PersonID)
	if name == "" {
		return ""
	}
	return v.msg(key+".of", map[string]any{"Person": name})
}

// sentence says what an entry records, in one plain sentence. Messages
// come in two forms: "you" when the reader did it, "other" otherwise.
func (v *journalView) sentence(e journal.Stored) string {
	data := map[string]any{}
	you := e.ActorID != "" && e.ActorID == v.viewer
	switch {
	case you:
	case e.ActorID == "":
		data["Actor"] = v.msg("journal.an_administrator", nil)
	default:
		name := v.person(e.ActorID)
		switch role := v.role(e); {
		case name == "":
			name = v.msg("journal.someone", nil)
		case role != "" && e.Type != mandates.EventAccessEvaluated:
			// A site's check names the actor alone: with the role, the
			// sentence ran past twenty words, and the act it led to, or
			// the measure the page explains first, says the role.
			name = v.msg("journal.actor_role", map[string]any{"Name": name, "Role": role})
		}
		data["Actor"] = name
	}
	// Whose account: "votre compte" in one's own journal, else the person's.
	switch {
	case e.PersonID == "":
	case e.PersonID == v.viewer:
		data["Account"] = v.msg("journal.your_account", nil)
	default:
		data["Account"] = v.msg("journal.account_of", map[string]any{"Name": v.person(e.PersonID)})
	}
	var fields map[string]string // nil once erased
	if e.Detail != nil {
		fields = e.Detail.Fields
	}
	// A co-signature's entry names its site in the detail.
	client := e.ClientID
	if client == "" {
		client = fields["client_id"]
	}
	data["Site"] = v.site(client)
	data["Kind"] = v.kind(e.RepresentationID)
	// French contracts « à le » and « de le »: « au mandat d’aidant ».
	data["ToKind"], data["OfKind"] = toKind(v.lang, data["Kind"].(string)), ofKind(v.lang, data["Kind"].(string))
	// The act a site asked about, in the words the other pages use.
	if a := mandates.Action(fields["action"]); a.Valid() {
		data["Action"] = locales.Action(a).In(v.lang)
	}
	typ := string(e.Type)
	switch e.Type {
	case mandates.EventTokenIssued:
		if fields["grant_type"] == "refresh_token" {
			typ = "token.refreshed"
		}
	case mandates.EventTokenExchanged:
		var targets []string
		for _, a := range strings.Fields(fields["audience"]) {
			targets = append(targets, v.site(a))
		}
		data["Target"] = strings.Join(targets, ", ")
	case mandates.EventAccessEvaluated:
		if d, ok := evaluationAnswer(fields["decision"]); ok {
			data["Decision"] = locales.Decision(d).In(v.lang)
		}
	case mandates.EventActReported:
		// The site's own words, and for whom when someone else acted.
		data["Label"], data["Reference"] = fields["label"], fields["reference"]
		switch {
		case e.PersonID == "" || e.PersonID == e.ActorID:
		case e.PersonID == v.viewer:
			data["For"] = v.msg("journal.for_you", nil)
		default:
			data["For"] = v.msg("journal.for_name", map[string]any{"Name": v.person(e.PersonID)})
		}
	case mandates.EventExpired:
		if t, err := time.Parse(time.RFC3339, fields["valid_until"]); err == nil {
			data["Until"] = locales.FormatDate(t, v.lang)
		}
	case mandates.EventNoticeChannelRequested, mandates.EventNoticeChannelConfirmed:
		if ch := fields["channel"]; ch == "email" || ch == "sms" {
			data["Channel"] = v.msg("letters.channel."+ch, nil)
		}
	case mandates.EventNoticePaperChosen:
		if t, err := time.Parse(time.DateOnly, fields["until"]); err == nil {
			data["Until"] = locales.FormatDate(t, v.lang)
		}
	case mandates.EventEndingSoon:
		data["Until"] = endsOn(fields["ends_on"], v.lang)
	}
	// Who gave or refused a mandate or a proxy, and how (journal_giving.go).
	if out, ok := v.givingSentence(e, fields); ok {
		return v.elide(out)
	}
	form := "other"
	if you {
		form = "you"
	}
	id := "journal.event." + typ + "." + form
	out, err := v.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		data["Type"] = typ
		return v.msg("journal.event.unknown", data)
	}
	return v.elide(out)
}

// evaluationAnswer reads the answer an access evaluation's entry records
// (detail decision: allowed, refused or cosign).
func evaluationAnswer(s string) (mandates.Decision, bool) {
	switch s {
	case string(mandates.Allowed):
		return mandates.Allowed, true
	case string(mandates.Cosign):
		return mandates.Cosign, true
	case "refused", string(mandates.No):
		return mandates.No, true
	}
	return "", false
}

func (v *journalView) line(e journal.Stored) journalLine {
	l := journalLine{Datetime: e.At.UTC().Format(time.RFC3339), Text: v.sentence(e), Time: locales.FormatTime(e.At, v.lang),
		When:   v.msg("journal.when", map[string]any{"Date": locales.FormatDate(e.At, v.lang), "Time": locales.FormatTime(e.At, v.lang)}),
		Erased: e.Detail != nil && e.Detail.Erased()}
	var areas []string
	for _, a := range e.Areas {
		if a.Valid() {
			areas = append(areas, locales.Area(a).In(v.lang))
		}
	}
	l.Areas = strings.Join(areas, ", ")
	v.nextStep(e, &l)
	return l
}

// nextStep marks a refusal and says what the reader can do now: in their
// own journal, who may act for them; in the journal of someone they act
// for, what they may do for that person. The journals of an organisation
// and the administrative one are read by professionals and get none.
func (v *journalView) nextStep(e journal.Stored, l *journalLine) {
	switch e.Type {
	case mandates.EventRefused:
	case mandates.EventAccessEvaluated:
		if d, ok := evaluationAnswer(fieldOf(e, "decision")); !ok || d != mandates.No {
			return
		}
	default:
		return
	}
	switch {
	case v.owner == "":
		return
	case v.owner == v.viewer:
		l.Next = v.msg("journal.next.own", nil)
		l.NextLink = &refusalLink{Href: ofPath, Text: v.msg("journal.next.own_link", nil)}
	default:
		l.Next = v.msg("journal.next.other", map[string]any{"Name": v.person(v.owner)})
		l.NextLink = &refusalLink{Href: forPath, Text: v.msg("journal.next.other_link", nil)}
	}
	l.Refused = true
}

// encodeCursor and decodeCursor carry a page's position in the link to
// the next one.
func encodeCursor(p journal.Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d|%d|%s", p.At.UnixMilli(), p.Seq, p.Chain)))
}

func decodeCursor(s string) (journal.Position, bool) {
	if s == "" {
		return journal.Position{}, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return journal.Position{}, false
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 {
		return journal.Position{}, false
	}
	ms, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || seq < 1 {
		return journal.Position{}, false
	}
	return journal.Position{At: time.UnixMilli(ms).UTC(), Seq: seq, Chain: parts[2]}, true
}

// journalPage renders one page of entries matching base, with the
// reader's filters (qui: who acted, site) and position (avant).
func (s *journalPages) journalPage(w http.ResponseWriter, r *http.Request, v *journalView, base journal.Query, d journalData) error {
	ctx := r.Context()
	q := base
	form := r.URL.Query()
	before, ok := decodeCursor(form.Get("avant"))
	if !ok {
		return statusError(http.StatusBadRequest)
	}
	// The filters offer who acted and which sites appear in the newest
	// entries of this journal.
	recent, err := s.mandates.Journal.JournalPage(ctx, journal.Query{Chain: base.Chain, OrganisationID: base.OrganisationID,
		Scope: v.allowed, Limit: journal.MaxPage})
	if err != nil {
		return err
	}
	who, site := form.Get("qui"), form.Get("site")
	seenWho, seenSite := map[string]bool{}, map[string]bool{}
	for _, e := range recent {
		if e.ActorID != "" && !seenWho[e.ActorID] {
			seenWho[e.ActorID] = true
			label := v.person(e.ActorID)
			if e.ActorID == v.viewer {
				label = v.msg("journal.filter.you", nil)
			}
			if label != "" {
				d.Who = append(d.Who, journalOption{Value: e.ActorID, Label: label, Selected: e.ActorID == who})
			}
		}
		if e.ClientID != "" && !seenSite[e.ClientID] {
			seenSite[e.ClientID] = true
			d.Sites = append(d.Sites, journalOption{Value: e.ClientID, Label: v.site(e.ClientID), Selected: e.ClientID == site})
		}
	}
	if who != "" {
		q.ActorID = who
	}
	if site != "" {
		q.ClientID = site
	}
	forMe := d.ForMe != nil && form.Get("pour") == "moi"
	if forMe {
		// What others did for the journal's person: the acts sites
		// reported, not the checks.
		d.ForMe.Checked = true
		q.Type, q.NotActorID = mandates.EventActReported, v.owner
	}
	d.Filtered = who != "" || site != "" || forMe
	// The store filters by the reader's scope, so one read fills a page.
	q.Before, q.Limit, q.Scope = before, journalPageSize+1, v.allowed
	shown, err := s.mandates.Journal.JournalPage(ctx, q)
	if err != nil {
		return err
	}
	more := len(shown) > journalPageSize
	shown = shown[:min(len(shown), journalPageSize)]
	d.Days = v.days(shown)
	d.Words = v.kindWords()
	link := func(avant string) string {
		u := url.Values{}
		if forMe {
			u.Set("pour", "moi")
		}
		if who != "" {
			u.Set("qui", who)
		}
		if site != "" {
			u.Set("site", site)
		}
		if avant != "" {
			u.Set("avant", avant)
		}
		if len(u) == 0 {
			return d.Action
		}
		return d.Action + "?" + u.Encode()
	}
	if more {
		d.Older = link(encodeCursor(shown[len(shown)-1].Position()))
	}
	if !before.IsZero() {
		d.Newest = link("")
	}
	s.render(w, r, http.StatusOK, "journal_list", "journal.title", d)
	return nil
}

// journalOwn is "Mon journal".
func (s *journalPages) journalOwn(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	v := s.newJournalView(r, sess.PersonID, sess.PersonID)
	d := journalData{Own: true, Heading: v.msg("journal.own.heading", nil), Lead: v.msg("journal.own.lead", nil), Action: journalPath,
		ForMe: &journalForMe{Label: v.msg("journal.filter.for_me", nil), Hint: v.msg("journal.filter.for_me_hint", nil)},
		Keep: &journalKeep{Title: v.msg("journal.keep.title", nil),
			Print: journalPath + "/imprimer", PrintText: v.msg("journal.keep.print", nil), PrintHint: v.msg("journal.keep.print_hint", nil),
			Export: journalPath + "/export.json", ExportText: v.msg("journal.keep.export", nil), ExportHint: v.msg("journal.keep.export_hint", nil)}}
	return s.journalPage(w, r, v, journal.Query{Chain: sess.PersonID}, d)
}

// consultable reads the {person} of the path and what the reader may see
// of that person's journal, as the domain says (Service.JournalScope):
// all of it for a representation of every area, the entries of an aidant
// mandate's or a proxy's areas otherwise. The reader's own id redirects
// to own, their own journal's page; anyone the reader does not act for
// answers 404 (never 403: nobody learns whose journal exists). ok is
// false when the answer is written.
func (s *journalPages) consultable(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, own string) (person string, scope mandates.JournalScope, ok bool) {
	person = mux.Vars(r)["person"]
	if !mandates.IsID(person) {
		s.Error(w, r, http.StatusNotFound)
		return "", scope, false
	}
	if person == sess.PersonID {
		http.Redirect(w, r, own, http.StatusSeeOther)
		return "", scope, false
	}
	scope, err := s.mandates.Service.JournalScope(r.Context(), actor(sess), person)
	if err != nil {
		s.StoreError(w, r, err) // ErrNotFound: 404
		return "", scope, false
	}
	return person, scope, true
}

// partial says, to a representative limited to some areas, what they see
// of the journal and why they get no export.
func (v *journalView) partial(name string) []string {
	if v.allowed.Whole() {
		return nil
	}
	return []string{v.msg("journal.partial.what", map[string]any{"Name": name}), v.msg("journal.partial.no_export", nil)}
}

// journalOfPerson is the journal of someone the reader represents, as far
// as the representation lets them consult, with the page to print it and,
// when they may read it all, the export.
func (s *journalPages) journalOfPerson(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	person, allowed, ok := s.consultable(w, r, sess, journalPath)
	if !ok {
		return nil
	}
	v := s.newJournalView(r, sess.PersonID, person)
	v.allowed = allowed
	name := v.person(person)
	base := journalPath + "/" + person
	named := map[string]any{"Name": name}
	d := journalData{Heading: v.msg("journal.of.heading", named), Lead: v.msg("journal.of.lead", named), Action: base,
		Keep: &journalKeep{Title: v.msg("journal.keep.title_of", named),
			Print: base + "/imprimer", PrintText: v.msg("journal.keep.print_of", named), PrintHint: v.msg("journal.keep.print_hint", nil)},
		Partial: v.partial(name),
		ForMe:   &journalForMe{Label: v.msg("journal.filter.for_person", named), Hint: v.msg("journal.filter.for_person_hint", named)}}
	if allowed.Whole() {
		d.Keep.Export, d.Keep.ExportText, d.Keep.ExportHint = base+"/export.json", v.msg("journal.keep.export_of", named), v.msg("journal.keep.export_hint_of", nil)
	} else {
		d.Keep.PrintHint = v.msg("journal.keep.print_hint_partial", nil)
	}
	return s.journalPage(w, r, v, journal.Query{Chain: person}, d)
}

// journalOfOrganisation is what the organisation's aidants did, for its
// administrator (or an operator).
func (s *journalPages) journalOfOrganisation(w http.ResponseWriter, r *http.Request) error {
	sess, o, err := s.orgAdminOnly(r)
	if err != nil {
		return err
	}
	v := s.newJournalView(r, sess.PersonID, "")
	d := journalData{Heading: v.msg("journal.org.heading", map[string]any{"Name": o.Name}),
		Lead: v.msg("journal.org.lead", nil), Action: "/structure/" + o.ID + "/journal"}
	return s.journalPage(w, r, v, journal.Query{OrganisationID: o.ID}, d)
}

// journalAdmin is the administrative chain, for operators.
func (s *journalPages) journalAdmin(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	v := s.newJournalView(r, sess.PersonID, "")
	d := journalData{Heading: v.msg("journal.admin.heading", nil), Lead: v.msg("journal.admin.lead", nil), Action: "/operateur/journal"}
	return s.journalPage(w, r, v, journal.Query{Chain: journal.AdminChain}, d)
}

// journalExport is the person's journal as JSON, with the latest
// checkpoint and the inclusion proof (docs/journal.md), to keep or to
// give to anyone who wants to check it.
func (s *journalPages) journalExport(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	return s.writeExport(w, r, sess.PersonID)
}

// journalExportOf is the export of a person's journal for a
// representative who may read all of it. One limited to some areas gets
// 404: an export holds the whole chain, or its proofs would not verify.
func (s *journalPages) journalExportOf(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	person, allowed, ok := s.consultable(w, r, sess, journalPath+"/export.json")
	if !ok {
		return nil
	}
	if !allowed.Whole() {
		return statusError(http.StatusNotFound)
	}
	return s.writeExport(w, r, person)
}

func (s *journalPages) writeExport(w http.ResponseWriter, r *http.Request, chain string) error {
	x, err := journal.BuildExport(r.Context(), s.mandates.Journal, chain, s.clock())
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="journal-relais.json"`)
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// journalPrint is the whole journal on one page made for paper, newest
// first.
func (s *journalPages) journalPrint(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	v := s.newJournalView(r, sess.PersonID, sess.PersonID)
	d := journalData{Own: true, Person: v.person(sess.PersonID), Back: journalPath, BackText: v.msg("journal.print.back", nil),
		Proof: v.msg("journal.print.proof", nil), Limited: v.msg("journal.print.limited", nil)}
	return s.printJournal(w, r, v, sess.PersonID, "journal.print.title", d)
}

// journalPrintOf is the printed journal of a person the reader acts for:
// whole, or the entries of the areas they may consult.
func (s *journalPages) journalPrintOf(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	person, allowed, ok := s.consultable(w, r, sess, journalPath+"/imprimer")
	if !ok {
		return nil
	}
	v := s.newJournalView(r, sess.PersonID, person)
	v.allowed = allowed
	name := v.person(person)
	named := map[string]any{"Name": name}
	d := journalData{Person: name, Back: journalPath + "/" + person, BackText: v.msg("journal.print.back_of", named),
		Proof: v.msg("journal.print.proof_of", named), Limited: v.msg("journal.print.limited", nil), Partial: v.partial(name)}
	if !allowed.Whole() {
		d.Proof, d.Limited = "", v.msg("journal.print.limited_partial", nil)
	}
	return s.printJournal(w, r, v, person, "journal.print.title_of", d)
}

// printJournal renders the entries of chain the reader may see, newest
// first, up to journalPrintMax.
func (s *journalPages) printJournal(w http.ResponseWriter, r *http.Request, v *journalView, chain, titleID string, d journalData) error {
	d.Heading, d.Printed = v.msg("journal.print.heading", nil), locales.FormatDate(s.clock(), v.lang)
	q := journal.Query{Chain: chain, Scope: v.allowed, Limit: journal.MaxPage}
	more := false
	for !more {
		page, err := s.mandates.Journal.JournalPage(r.Context(), q)
		if err != nil {
			return err
		}
		for _, e := range page {
			if len(d.Lines) == journalPrintMax {
				more = true
				break
			}
			d.Lines = append(d.Lines, v.line(e))
		}
		if len(page) < q.Limit {
			break
		}
		q.Before = page[len(page)-1].Position()
	}
	if !more {
		d.Limited = ""
	}
	d.Words = v.kindWords()
	s.render(w, r, http.StatusOK, "journal_print", titleID, d)
	return nil
}
