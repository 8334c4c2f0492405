package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// The aidant's workspace (issue 5, point 4): an aidant logged in with the
// second factor creates a mandate with the person, who consents in person
// (their own login on this device, or an attestation they sign) or at a
// distance (a code sent to their phone). The consent pages speak to
// whoever must act: the login page to the person, the others to the aidant.
const aidantPath = "/aidant"

// aidantPages are the aidant's workspace; they use the person's pages'
// helpers (forms, who a request waits for).
type aidantPages struct{ *personPages }

func (s *aidantPages) mountAidant(pages *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	both := append(slices.Clone(get), http.MethodPost)
	const mandate = "/aidant/mandats/{id:[0-9a-f-]{36}}"
	pages.HandleFunc(aidantPath, s.page(s.aidantHome)).Methods(get...)
	pages.HandleFunc(aidantNewPath, s.page(s.aidantNewMandate)).Methods(both...)
	pages.HandleFunc(mandate, s.page(s.aidantMandatePage)).Methods(get...)
	pages.HandleFunc(mandate+"/connexion", s.page(s.aidantConfirmByLogin)).Methods(both...)
	pages.HandleFunc(mandate+"/attestation", s.page(s.aidantAttestation)).Methods(both...)
	pages.HandleFunc(mandate+"/attestation/imprimer", s.page(s.aidantPrint)).Methods(get...)
	pages.HandleFunc(mandate+"/code", s.page(s.aidantCode)).Methods(both...)
	pages.HandleFunc(mandate+"/changer", s.page(s.aidantChangeMandate)).Methods(both...)
}

func aidantMandatePath(id string) string { return "/aidant/mandats/" + id }

type aidantSecondFactorData struct {
	TOTP  bool
	Login string
}

// aidantSession is the session of a person logged in with the second
// factor, which aidants must use; without it, a page says how to get it.
func (s *aidantPages) aidantSession(r *http.Request) (authn.BrowserSession, error) {
	sess, err := s.requireSession(r)
	if err != nil {
		return sess, err
	}
	if !actor(sess).SecondFactor {
		return sess, errAidantSecondFactor
	}
	return sess, nil
}

func (s *Server) aidantSecondFactorPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusForbidden, "aidant_second_factor", "aidant.second.title",
		aidantSecondFactorData{TOTP: s.oidc.TOTP != nil, Login: "/login?" + url.Values{"return": {aidantPath}}.Encode()})
}

type aidantOrgLine struct {
	ID, Name, Kind, Role string
	Areas                []string // empty: every area
	Admin                bool
	WithdrawnAt          string
}

type aidantHomeData struct {
	Orgs, Withdrawn []aidantOrgLine
	Mandates        []spaceCard
	Links           map[string]bool // cards whose mandate page the aidant may open
}

func aidantOrgLineOf(m mandates.MembershipView, lang string) aidantOrgLine {
	o := aidantOrgLine{ID: m.OrganisationID, Name: m.Organisation.Name, Kind: locales.OrganisationKind(m.Organisation.Kind).In(lang),
		Role: "aidant.home.role_aidant", Admin: m.Role == mandates.MemberAdmin}
	if o.Admin {
		o.Role = "aidant.home.role_admin"
	}
	for _, a := range spaceAreas(m.Organisation.Areas, lang) {
		o.Areas = append(o.Areas, a.Label)
	}
	if !m.Active {
		o.WithdrawnAt = locales.FormatDate(m.WithdrawnAt, lang)
	}
	return o
}

// aidantHome lists the organisations the aidant acts for, and the mandates
// they may use.
func (s *aidantPages) aidantHome(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.aidantSession(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	ms, err := s.mandates.Service.MembershipsOf(ctx, sess.PersonID)
	if err != nil {
		return err
	}
	views, err := s.mandates.Service.For(ctx, sess.PersonID)
	if err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	d := aidantHomeData{Mandates: spaceCardsOf(views, lang, l), Links: map[string]bool{}}
	for _, m := range ms {
		if m.Active {
			d.Orgs = append(d.Orgs, aidantOrgLineOf(m, lang))
		} else {
			d.Withdrawn = append(d.Withdrawn, aidantOrgLineOf(m, lang))
		}
	}
	for _, v := range views {
		if v.Kind == mandates.AidantMandate {
			d.Links[v.ID] = true
		}
	}
	s.render(w, r, http.StatusOK, "aidant_home", "aidant.home.title", d)
	return nil
}

type aidantMandateFormData struct {
	Email     string
	Org       *spaceChoice  // the one organisation
	Orgs      []spaceChoice // several: the aidant chooses
	Areas     []spaceChoice
	Durations []spaceChoice
	Methods   []spaceChoice
	Problems  spaceProblems
	NoOrg     bool // the aidant acts for no organisation (any more)
	// Kept is the message id that says the form was filled with what the
	// aidant wrote before (keep.go), or "".
	Kept string
}

// consent methods, as the form names them.
const (
	aidantMethodLogin       = "connexion"
	aidantMethodAttestation = "attestation"
	aidantMethodCode        = "code"
)

func (s *aidantPages) aidantNewMandateForm(r *http.Request, orgs []mandates.MembershipView, email, org string, areas []string, duration, method string) aidantMandateFormData {
	lang, l := s.spaceLocalizer(r)
	d := aidantMandateFormData{Email: email, Durations: spaceDurationChoices(duration, lang), NoOrg: len(orgs) == 0}
	// The areas offered are those the aidant's organisations cover.
	var offered []mandates.Area
	for _, a := range mandates.Areas {
		if slices.ContainsFunc(orgs, func(m mandates.MembershipView) bool { return m.Organisation.Covers(a) }) {
			offered = append(offered, a)
		}
	}
	d.Areas = spaceAreaChoices(offered, areas, lang)
	for _, m := range orgs {
		d.Orgs = append(d.Orgs, spaceChoice{Value: m.OrganisationID, Label: m.Organisation.Name, Checked: m.OrganisationID == org})
	}
	if len(d.Orgs) == 1 {
		d.Org, d.Orgs = &d.Orgs[0], nil
	}
	methods := []string{aidantMethodLogin, aidantMethodAttestation}
	if s.mandates.Service.RemoteConsent() {
		methods = append(methods, aidantMethodCode)
	}
	for _, m := range methods {
		d.Methods = append(d.Methods, spaceChoice{Value: m, Label: translate(l, "aidant.new.method_"+m), Hint: translate(l, "aidant.new.method_"+m+"_hint"),
			Checked: m == method})
	}
	return d
}

// aidantActiveOrgs are the organisations the person may act for now.
func (s *aidantPages) aidantActiveOrgs(r *http.Request, personID string) ([]mandates.MembershipView, error) {
	ms, err := s.mandates.Service.MembershipsOf(r.Context(), personID)
	return slices.DeleteFunc(ms, func(m mandates.MembershipView) bool { return !m.Active }), err
}

// aidantNewMandate is the form an aidant fills in with the person: who, for
// which organisation, which areas, how long, and how the person consents.
// Every problem is shown at once, and nothing is written until all is
// right; the mandate then waits for the person's consent.
func (s *aidantPages) aidantNewMandate(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.aidantSession(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	orgs, err := s.aidantActiveOrgs(r, sess.PersonID)
	if err != nil {
		return err
	}
	if r.Method != http.MethodPost {
		// A form kept after the session ended, or across the language
		// switch, fills the form again; it is only shown, never sent.
		kept, notice := s.keeping().keptForm(w, r)
		d := s.aidantNewMandateForm(r, orgs, strings.TrimSpace(kept.Get("email")), kept.Get("structure"), kept["domaines"],
			kept.Get("duree"), kept.Get("accord"))
		d.Kept = notice
		status := http.StatusOK
		if d.NoOrg {
			status = http.StatusForbidden
		}
		s.render(w, r, status, "aidant_new", "aidant.new.title", d)
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	f := r.PostForm
	email := strings.TrimSpace(f.Get("email"))
	d := s.aidantNewMandateForm(r, orgs, email, f.Get("structure"), f["domaines"], f.Get("duree"), f.Get("accord"))
	if d.NoOrg {
		s.render(w, r, http.StatusForbidden, "aidant_new", "aidant.new.title", d)
		return nil
	}
	p := &d.Problems
	var org *mandates.Organisation
	if len(orgs) == 1 {
		org = &orgs[0].Organisation
	} else if i := slices.IndexFunc(orgs, func(m mandates.MembershipView) bool { return m.OrganisationID == f.Get("structure") }); i >= 0 {
		org = &orgs[i].Organisation
	} else {
		p.add("org", "structure-"+orgs[0].OrganisationID, "aidant.new.err_org", nil)
	}
	person, err := s.spacePersonByEmail(r, email, sess.PersonID, p, "aidant.new.err_self")
	if err != nil {
		return err
	}
	var covers func(mandates.Area) bool
	if org != nil {
		covers = org.Covers
	}
	target := "domaine-"
	if len(d.Areas) > 0 {
		target += d.Areas[0].Value
	}
	areas := spaceChosenAreas(f["domaines"], covers, p, target)
	duration := spaceChosenDuration(f.Get("duree"), p)
	method := f.Get("accord")
	if !slices.ContainsFunc(d.Methods, func(c spaceChoice) bool { return c.Value == method }) {
		p.add("method", "accord-"+aidantMethodLogin, "aidant.new.err_method", nil)
	}
	if p.Any() {
		s.render(w, r, http.StatusBadRequest, "aidant_new", "aidant.new.title", d)
		return nil
	}
	rep, err := s.mandates.Service.StartMandate(ctx, actor(sess), mandates.MandateInput{OrganisationID: org.ID, PersonID: person.ID,
		Areas: areas, Duration: duration})
	var open *mandates.OpenError
	switch {
	case errors.As(err, &open):
		// One mandate between the person and the organisation: change it.
		return s.aidantExisting(w, r, aidantMandate{sess: sess}, open, f["domaines"], f.Get("duree"))
	case errors.Is(err, mandates.ErrSecondFactor):
		return errAidantSecondFactor
	case errors.Is(err, mandates.ErrNotPermitted):
		// Withdrawn by the organisation since the form was shown.
		d = s.aidantNewMandateForm(r, nil, "", "", nil, "", "")
		s.render(w, r, http.StatusForbidden, "aidant_new", "aidant.new.title", d)
		return nil
	case errors.Is(err, mandates.ErrInvalid):
		p.add("form", "email", "space.form.err_invalid", nil)
		s.render(w, r, http.StatusBadRequest, "aidant_new", "aidant.new.title", d)
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(ctx, "aidant mandate started", "representation_id", rep.ID, "organisation_id", org.ID)
	if rep.Waits() != mandates.WaitingPerson {
		// Under the person's measure, their representative gives it: the
		// mandate's page says who.
		http.Redirect(w, r, aidantMandatePath(rep.ID), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, aidantMandatePath(rep.ID)+"/"+method, http.StatusSeeOther)
	return nil
}

// aidantMandate is an aidant mandate of one of the aidant's organisations,
// read for one of its pages. Any other id is not found, so nobody learns
// who has a mandate.
type aidantMandate struct {
	sess authn.BrowserSession
	rep  mandates.Representation
	view mandates.View
}

func (s *aidantPages) loadAidantMandate(r *http.Request) (aidantMandate, error) {
	var m aidantMandate
	sess, err := s.aidantSession(r)
	if err != nil {
		return m, err
	}
	m.sess = sess
	return m, s.reloadAidantMandate(r, &m, mux.Vars(r)["id"])
}

func (s *aidantPages) reloadAidantMandate(r *http.Request, m *aidantMandate, id string) error {
	ctx := r.Context()
	svc := s.mandates.Service
	if !mandates.IsID(id) {
		return mandates.ErrNotFound
	}
	rep, err := svc.Representation(ctx, m.sess.PersonID, id)
	if err != nil {
		return err
	}
	orgs, err := s.aidantActiveOrgs(r, m.sess.PersonID)
	if err != nil {
		return err
	}
	if rep.Kind != mandates.AidantMandate || !slices.ContainsFunc(orgs, func(o mandates.MembershipView) bool {
		return o.OrganisationID == rep.Representative.OrganisationID
	}) {
		// An operator may read it, but only its organisation's aidants
		// collect the consent.
		return mandates.ErrNotFound
	}
	views, err := svc.Describe(ctx, []mandates.Representation{rep})
	if err != nil {
		return err
	}
	m.rep, m.view = rep, views[0]
	return nil
}

type aidantMandateData struct {
	Card      spaceCard
	Name      string
	State     string // "active", "waiting", "waiting_representative", "waiting_agreement", "cancelled" or "ended"
	Done      bool   // the consent was just given
	Changed   bool   // the mandate was just changed
	Printable bool   // an aidantAttestation to print
	Remote    bool
	// Waiting for the representative under the person's measure: their
	// name, the words that name them (« Marie Martin, tutrice de Jeanne
	// Lefèvre ») and the measure (« la tutelle »).
	Holder, Who, Kind string
	KindCode          mandates.Kind // the measure, for kindMeans
	Named             bool          // Who names someone (« Marie Martin, tutrice de … »), not a role alone
}

// aidantMandatePage says where a mandate stands: in force (and until
// when), waiting for the person's consent (and the ways to give it), or
// stopped.
func (s *aidantPages) aidantMandatePage(w http.ResponseWriter, r *http.Request) error {
	m, err := s.loadAidantMandate(r)
	if err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	d := aidantMandateData{Card: spaceCardOf(m.view, lang, l), Name: m.view.PersonName, Remote: s.mandates.Service.RemoteConsent(),
		Done: r.URL.Query().Get("fait") == "accord"}
	title := "aidant.mandate.title_active"
	switch m.view.Status {
	case mandates.StatusActive:
		d.State = "active"
		c := m.rep.Source.Consent
		d.Printable = c != nil && c.Method == mandates.ConsentInPersonAttestation
	case mandates.StatusPendingConsent:
		d.State, title = "waiting", "aidant.mandate.title_waiting"
		d.Changed = r.URL.Query().Get("fait") == "change"
		t, err := s.aidantWaiting(r, m, &d)
		if err != nil {
			return err
		}
		if t != "" {
			title = t
		}
	case mandates.StatusRevoked:
		d.State, title = "cancelled", "aidant.mandate.title_cancelled"
	default:
		d.State, title = "ended", "aidant.mandate.title_ended"
	}
	d.Done = d.Done && (d.State == "active" || d.State == "waiting_agreement")
	s.render(w, r, http.StatusOK, "aidant_mandate", title, d)
	return nil
}

// aidantNotWaiting sends consent pages of a mandate that no longer waits for
// the person's consent to the mandate's page, which says where it stands
// (waiting for the representative under the person's measure, say). A
// form sent all the same gets the service's answer.
func aidantNotWaiting(w http.ResponseWriter, r *http.Request, m aidantMandate) bool {
	if m.view.Status == mandates.StatusPendingConsent && (r.Method == http.MethodPost || m.rep.Waits() == mandates.WaitingPerson) {
		return false
	}
	http.Redirect(w, r, aidantMandatePath(m.rep.ID), http.StatusSeeOther)
	return true
}

type aidantConfirmData struct {
	Card    spaceCard
	Name    string
	Email   string
	Problem *spaceProblem
}

// aidantConfirmByLogin is the page the aidant hands over to the person: they
// log in with their own account to say they agree. The aidant's session
// stays as it is; the person's login opens no session.
func (s *aidantPages) aidantConfirmByLogin(w http.ResponseWriter, r *http.Request) error {
	m, err := s.loadAidantMandate(r)
	if err != nil {
		return err
	}
	if aidantNotWaiting(w, r, m) {
		return nil
	}
	ctx := r.Context()
	lang, l := s.spaceLocalizer(r)
	d := aidantConfirmData{Card: spaceCardOf(m.view, lang, l), Name: m.view.PersonName}
	if r.Method != http.MethodPost {
		s.render(w, r, http.StatusOK, "aidant_login", "aidant.confirm.title", d)
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d.Email = strings.TrimSpace(r.PostForm.Get("email"))
	person, err := s.mandates.Auth.Authenticate(ctx, d.Email, r.PostForm.Get("password"), clientAddress(r))
	switch {
	case errors.Is(err, authn.ErrBadCredentials):
		d.Problem = &spaceProblem{ID: "aidant.confirm.err_bad", Target: "email"}
		s.render(w, r, http.StatusUnauthorized, "aidant_login", "aidant.confirm.title", d)
		return nil
	case errors.Is(err, authn.ErrTooManyAttempts):
		d.Problem = &spaceProblem{ID: "aidant.confirm.err_too_many", Target: "email"}
		w.Header().Set("Retry-After", "900")
		s.render(w, r, http.StatusTooManyRequests, "aidant_login", "aidant.confirm.title", d)
		return nil
	case err != nil:
		return err
	case person.ID != m.rep.PersonID:
		d.Problem = &spaceProblem{ID: "aidant.confirm.err_other", Data: map[string]any{"Name": m.view.PersonName}, Target: "email"}
		s.render(w, r, http.StatusForbidden, "aidant_login", "aidant.confirm.title", d)
		return nil
	}
	_, err = s.mandates.Service.ConfirmByLogin(ctx, actor(m.sess), m.rep.ID, person.ID)
	if err != nil {
		return s.aidantConsentFailed(w, r, m, err)
	}
	s.log.InfoContext(ctx, "aidant mandate confirmed by the person's login", "representation_id", m.rep.ID)
	http.Redirect(w, r, aidantMandatePath(m.rep.ID)+"?fait=accord", http.StatusSeeOther)
	return nil
}

// aidantConsentFailed answers the failures every way of consenting
// shares; err is not nil.
func (s *aidantPages) aidantConsentFailed(w http.ResponseWriter, r *http.Request, m aidantMandate, err error) error {
	switch {
	case errors.Is(err, mandates.ErrSecondFactor):
		return errAidantSecondFactor
	case errors.Is(err, mandates.ErrRepresentativeGives):
		return s.aidantRepresentativeGives(w, r, m)
	case errors.Is(err, mandates.ErrInactive):
		http.Redirect(w, r, aidantMandatePath(m.rep.ID), http.StatusSeeOther)
		return nil
	}
	return err
}

type aidantAttestationData struct {
	Card     spaceCard
	Name     string
	Text     string
	TextLang string // the text's language, when it is not the page's
	Given    string // when the consent was recorded
	Problem  *spaceProblem
}

// aidantAttestation shows the text the person agrees to in front of the aidant;
// the aidant ticks that the person agreed, and Relais keeps the text's
// hash with the consent.
func (s *aidantPages) aidantAttestation(w http.ResponseWriter, r *http.Request) error {
	m, err := s.loadAidantMandate(r)
	if err != nil {
		return err
	}
	if aidantNotWaiting(w, r, m) {
		return nil
	}
	ctx := r.Context()
	svc := s.mandates.Service
	lang, l := s.spaceLocalizer(r)
	person, err := svc.Person(ctx, m.rep.PersonID)
	if err != nil {
		return err
	}
	aidant, err := svc.Person(ctx, m.sess.PersonID)
	if err != nil {
		return err
	}
	text := locales.Attestation(m.rep, person, *m.view.Organisation, aidant, s.now(), lang)
	d := aidantAttestationData{Card: spaceCardOf(m.view, lang, l), Name: m.view.PersonName, Text: text}
	if r.Method != http.MethodPost {
		s.render(w, r, http.StatusOK, "aidant_attestation", "aidant.attest.title", d)
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	if r.PostForm.Get("accord") != "oui" {
		d.Problem = &spaceProblem{ID: "aidant.attest.err_check", Target: "accord"}
		s.render(w, r, http.StatusBadRequest, "aidant_attestation", "aidant.attest.title", d)
		return nil
	}
	_, err = svc.RecordInPersonConsent(ctx, actor(m.sess), m.rep.ID, []byte(text))
	if err != nil {
		return s.aidantConsentFailed(w, r, m, err)
	}
	s.log.InfoContext(ctx, "aidant mandate: in-person consent recorded", "representation_id", m.rep.ID)
	http.Redirect(w, r, aidantMandatePath(m.rep.ID)+"/attestation/imprimer", http.StatusSeeOther)
	return nil
}

// aidantPrint is the attestation to print, as it was recorded: the
// text whose hash the consent keeps (in the language it was recorded in).
func (s *aidantPages) aidantPrint(w http.ResponseWriter, r *http.Request) error {
	m, err := s.loadAidantMandate(r)
	if err != nil {
		return err
	}
	c := m.rep.Source.Consent
	if m.view.Status != mandates.StatusActive || c == nil || c.Method != mandates.ConsentInPersonAttestation {
		http.Redirect(w, r, aidantMandatePath(m.rep.ID), http.StatusSeeOther)
		return nil
	}
	ctx := r.Context()
	svc := s.mandates.Service
	person, err := svc.Person(ctx, m.rep.PersonID)
	if err != nil {
		return err
	}
	witness, err := svc.Person(ctx, c.WitnessID)
	if err != nil {
		return err
	}
	lang, l := s.spaceLocalizer(r)
	d := aidantAttestationData{Card: spaceCardOf(m.view, lang, l), Name: m.view.PersonName,
		Given: translateData(l, "space.date_at", map[string]any{"Date": locales.FormatDate(c.GivenAt, lang), "Time": locales.FormatTime(c.GivenAt, lang)})}
	for _, tl := range []string{lang, otherLang(lang)} {
		text := locales.Attestation(m.rep, person, *m.view.Organisation, witness, c.GivenAt, tl)
		sum := sha256.Sum256([]byte(text))
		if hex.EncodeToString(sum[:]) == c.AttestationHash || d.Text == "" {
			d.Text, d.TextLang = text, ""
			if tl != lang {
				d.TextLang = tl
			}
		}
		if hex.EncodeToString(sum[:]) == c.AttestationHash {
			break
		}
	}
	s.render(w, r, http.StatusOK, "aidant_print", "aidant.print.title", d)
	return nil
}

type aidantCodeData struct {
	Card    spaceCard
	Name    string
	State   string // "no_sender", "no_phone", "send", "check", "cancelled" or "active"
	Digits  string // the end of the phone number
	Minutes int    // how long a code can be used (Service.CodeTTL)
	Problem *spaceProblem
}

// aidantPhoneEnd is the last two digits of a phone number, enough for the
// person to recognise theirs.
func aidantPhoneEnd(phone string) string {
	var digits []byte
	for i := 0; i < len(phone); i++ {
		if phone[i] >= '0' && phone[i] <= '9' {
			digits = append(digits, phone[i])
		}
	}
	if len(digits) > 2 {
		digits = digits[len(digits)-2:]
	}
	return string(digits)
}

func (s *aidantPages) aidantCodeData(r *http.Request, m aidantMandate) (aidantCodeData, error) {
	lang, l := s.spaceLocalizer(r)
	d := aidantCodeData{Card: spaceCardOf(m.view, lang, l), Name: m.view.PersonName, Minutes: int(s.mandates.Service.CodeTTL() / time.Minute)}
	person, err := s.mandates.Service.Person(r.Context(), m.rep.PersonID)
	if err != nil {
		return d, err
	}
	d.Digits = aidantPhoneEnd(person.Phone)
	sent := slices.ContainsFunc(m.rep.History, func(c mandates.Change) bool { return c.Type == mandates.EventConsentCodeSent })
	switch {
	case m.view.Status == mandates.StatusActive:
		d.State = "active"
	case m.view.Status != mandates.StatusPendingConsent:
		d.State = "cancelled"
	case !s.mandates.Service.RemoteConsent():
		d.State = "no_sender"
	case d.Digits == "":
		d.State = "no_phone"
	case sent:
		d.State = "check"
	default:
		d.State = "send"
	}
	return d, nil
}

// aidantCode sends a one-time code to the person's phone, then checks
// the code the person reads back. Wrong codes count; too many cancel the
// request; a used code never works twice.
func (s *aidantPages) aidantCode(w http.ResponseWriter, r *http.Request) error {
	m, err := s.loadAidantMandate(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	svc := s.mandates.Service
	if r.Method != http.MethodPost {
		if aidantNotWaiting(w, r, m) {
			return nil
		}
		d, err := s.aidantCodeData(r, m)
		if err != nil {
			return err
		}
		s.render(w, r, http.StatusOK, "aidant_code", "aidant.code.title", d)
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	a := actor(m.sess)
	var status int
	var prob *spaceProblem
	switch r.PostForm.Get("etape") {
	case "envoyer":
		err := svc.SendConsentCode(ctx, a, m.rep.ID)
		switch {
		case err == nil:
			http.Redirect(w, r, aidantMandatePath(m.rep.ID)+"/code", http.StatusSeeOther)
			return nil
		case errors.Is(err, mandates.ErrNoSender):
			status = http.StatusConflict
		case errors.Is(err, mandates.ErrTooManyCodes):
			status, prob = http.StatusTooManyRequests, &spaceProblem{ID: "aidant.code.err_too_many_sent", Target: "code"}
		default:
			return s.aidantConsentFailed(w, r, m, err)
		}
	case "verifier":
		code := strings.TrimSpace(r.PostForm.Get("code"))
		if code == "" {
			status, prob = http.StatusBadRequest, &spaceProblem{ID: "aidant.code.err_empty", Target: "code"}
			break
		}
		_, err := svc.CheckConsentCode(ctx, a, m.rep.ID, code)
		var left mandates.CodeAttemptsLeft
		switch {
		case err == nil:
			s.log.InfoContext(ctx, "aidant mandate: consent code accepted", "representation_id", m.rep.ID)
			http.Redirect(w, r, aidantMandatePath(m.rep.ID)+"?fait=accord", http.StatusSeeOther)
			return nil
		case errors.As(err, &left):
			id := "aidant.code.err_wrong_other"
			if left == 1 {
				id = "aidant.code.err_wrong_one"
			}
			status, prob = http.StatusBadRequest, &spaceProblem{ID: id, Data: map[string]any{"Count": int(left)}, Target: "code"}
		case errors.Is(err, mandates.ErrCodeExpired):
			status, prob = http.StatusBadRequest, &spaceProblem{ID: "aidant.code.err_expired", Target: "code"}
		case errors.Is(err, mandates.ErrTooManyCodes):
			status = http.StatusTooManyRequests
		default:
			return s.aidantConsentFailed(w, r, m, err)
		}
	default:
		return statusError(http.StatusBadRequest)
	}
	// Show the page as the request now stands (a code sent, a request
	// cancelled, a mandate already in force).
	if err := s.reloadAidantMandate(r, &m, m.rep.ID); err != nil {
		return err
	}
	d, err := s.aidantCodeData(r, m)
	if err != nil {
		return err
	}
	d.Problem = prob
	title := "aidant.code.title"
	if d.State == "cancelled" {
		title = "aidant.code.title_cancelled"
	}
	s.render(w, r, status, "aidant_code", title, d)
	return nil
}
