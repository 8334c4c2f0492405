package ui

import (
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
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
)

// « Comment je reçois mes courriers » (issue 15, point 3): paper by
// default; email or SMS once the code sent to the new address or number
// is typed back; back to paper at once, for good or until a date. The
// person's own page is under lettersPath; the page of a representative
// who chooses for the person (the rule: mandates.Policy.NoticesManagedBy)
// under lettersForPath. Each step is one small form: choose, type the
// address, type the code.
const (
	lettersPath    = "/espace/courriers"
	lettersForPath = "/espace/pour/{person}/courriers"
	lettersToRoute = "/{channel:email|sms}" // the address's form, kept (keep.go)
)

// letterPages are the pages of how a person receives their letters.
type letterPages struct{ *Server }

func (s *Server) mountLetters(pages *mux.Router) {
	if s.mandates.Letters == nil {
		return
	}
	p := &letterPages{s}
	get := []string{http.MethodGet, http.MethodHead}
	for _, base := range []string{lettersPath, lettersForPath} {
		pages.HandleFunc(base, s.page(p.home)).Methods(get...)
		pages.HandleFunc(base+lettersToRoute, s.page(p.toPage)).Methods(get...)
		pages.HandleFunc(base+lettersToRoute, s.page(p.to)).Methods(http.MethodPost)
		pages.HandleFunc(base+"/code", s.page(p.codePage)).Methods(get...)
		pages.HandleFunc(base+"/code", s.page(p.code)).Methods(http.MethodPost)
		pages.HandleFunc(base+"/papier", s.page(p.paper)).Methods(http.MethodPost)
	}
}

// lettersData is what the three pages show.
type lettersData struct {
	Base    string // the pages' path: the person's own, or the one for them
	For     string // the person's name, when a representative chooses for them
	Channel string // the channel in use now: paper, email or sms
	To      string // where, in words: the address, or the number as people write it
	// Until: back to paper until this day (in words); Then: the channel
	// that counts again from it.
	Until, Then string
	Waiting     bool   // a code waits to be typed
	WaitingTo   string // where it was sent
	Offers      []lettersOffer
	Electronic  bool   // an email or SMS channel is confirmed: going back to paper is offered
	Done        string // what just happened: a message id
	Kept        string // a kept form's message
	Value       string // what the person typed, shown again
	Minutes     int    // how long a code works
	Left        int    // wrong codes still allowed
	Problems    spaceProblems
	Form        string // the form shown: "email", "sms" or "code"
	Now         string // the value of the paper form's choice
}

// lettersOffer is one way to receive the letters that can be chosen.
type lettersOffer struct{ Href, Label, Hint string }

// who is the person whose letters the page is about, and the actor: the
// signed-in person, or the person named in the path when the rule lets
// the actor choose for them (anyone else gets the 404 page, learning
// nothing).
func (s *letterPages) who(r *http.Request, sess authn.BrowserSession) (personID string, d lettersData, err error) {
	personID, d.Base = sess.PersonID, lettersPath
	if id := mux.Vars(r)["person"]; id != "" {
		if id == sess.PersonID || !mandates.IsID(id) {
			return "", d, statusError(http.StatusNotFound)
		}
		personID, d.Base = id, strings.Replace(lettersForPath, "{person}", id, 1)
	}
	return personID, d, nil
}

// load reads the choice for the page, asking the rule first.
func (s *letterPages) load(r *http.Request) (mandates.Actor, string, prefs.Choice, lettersData, error) {
	sess, err := s.requireSession(r)
	if err != nil {
		return mandates.Actor{}, "", prefs.Choice{}, lettersData{}, err
	}
	personID, d, err := s.who(r, sess)
	if err != nil {
		return mandates.Actor{}, "", prefs.Choice{}, d, err
	}
	a := actor(sess)
	c, _, err := s.mandates.Letters.Choice(r.Context(), a, personID)
	if errors.Is(err, mandates.ErrNotPermitted) {
		return a, personID, c, d, statusError(http.StatusNotFound)
	}
	if err != nil {
		return a, personID, c, d, err
	}
	if personID != sess.PersonID {
		p, err := s.mandates.Service.Person(r.Context(), personID)
		if err != nil {
			return a, personID, c, d, err
		}
		d.For = mandates.DisplayName(p)
	}
	return a, personID, c, d, s.describe(r, c, &d)
}

// describe puts the choice in the page's words.
func (s *letterPages) describe(r *http.Request, c prefs.Choice, d *lettersData) error {
	lang, l := s.spaceLocalizer(r)
	now := s.now()
	svc := s.mandates.Letters
	ch, paperUntil, err := svc.Effective(c, now)
	if err != nil {
		return err
	}
	d.Channel = string(ch)
	d.Electronic = c.Channel == notices.Email || c.Channel == notices.SMS
	switch d.Channel {
	case string(notices.Email):
		d.To = c.Email
	case string(notices.SMS):
		d.To = phoneWords(c.Phone)
	}
	if d.Electronic && paperUntil {
		d.Until = locales.FormatDate(c.PaperUntil, lang)
		d.Then = translate(l, "letters.channel."+string(c.Channel))
	}
	if c.Pending.Waiting() && now.Before(c.Pending.ExpiresAt) {
		d.Waiting, d.WaitingTo = true, c.Pending.To
		if c.Pending.Channel == notices.SMS {
			d.WaitingTo = phoneWords(c.Pending.To)
		}
	}
	for _, ch := range []notices.Channel{notices.Email, notices.SMS} {
		if !svc.Offers(ch) {
			continue
		}
		o := lettersOffer{Href: d.Base + "/" + string(ch), Label: "letters.offer." + string(ch), Hint: "letters.offer." + string(ch) + "_hint"}
		if c.Channel == ch {
			o.Label += "_change"
		}
		d.Offers = append(d.Offers, o)
	}
	d.Minutes = int(svc.TTL().Minutes())
	return nil
}

// phoneWords writes a French number as people read it: "06 12 34 56 78".
func phoneWords(e164 string) string {
	national, ok := strings.CutPrefix(e164, "+33")
	if !ok || len(national) != 9 {
		return e164
	}
	n := "0" + national
	return n[0:2] + " " + n[2:4] + " " + n[4:6] + " " + n[6:8] + " " + n[8:10]
}

func (s *letterPages) title(d lettersData) string {
	if d.For != "" {
		return "letters.title_for"
	}
	return "letters.title"
}

func (s *letterPages) home(w http.ResponseWriter, r *http.Request) error {
	_, _, _, d, err := s.load(r)
	if err != nil {
		return err
	}
	switch done := r.URL.Query().Get("fait"); done {
	case "confirme", "papier", "papier-date":
		d.Done = "letters.done." + done
	}
	s.render(w, r, http.StatusOK, "letters", s.title(d), d)
	return nil
}

// toPage is the form of the new address (email) or number (sms).
func (s *letterPages) toPage(w http.ResponseWriter, r *http.Request) error {
	_, _, _, d, err := s.load(r)
	if err != nil {
		return err
	}
	d.Form = mux.Vars(r)["channel"]
	kept, notice := s.keeping().keptForm(w, r)
	d.Value, d.Kept = strings.TrimSpace(kept.Get(d.Form)), notice
	if !s.mandates.Letters.Offers(notices.Channel(d.Form)) {
		d.Problems.add("form", d.Form, "letters.err.no_sender."+d.Form, nil)
		s.render(w, r, http.StatusServiceUnavailable, "letters_to", s.title(d), d)
		return nil
	}
	s.render(w, r, http.StatusOK, "letters_to", s.title(d), d)
	return nil
}

// to sends the code to the address or number typed: at once, since the
// person waits for it on the next page.
func (s *letterPages) to(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requirePost(r); err != nil {
		return err
	}
	a, personID, _, d, err := s.load(r)
	if err != nil {
		return err
	}
	d.Form = mux.Vars(r)["channel"]
	d.Value = strings.TrimSpace(r.PostForm.Get(d.Form))
	// The code is written in the page's language: whoever typed the
	// address reads it now.
	err = s.mandates.Letters.Request(r.Context(), a, personID, notices.Channel(d.Form), d.Value, requestLang(r))
	var inv *mandates.InvalidError
	status := http.StatusBadRequest
	switch {
	case err == nil:
		http.Redirect(w, r, d.Base+"/code", http.StatusSeeOther)
		return nil
	case errors.Is(err, mandates.ErrNotPermitted):
		return statusError(http.StatusNotFound)
	case errors.As(err, &inv) && (inv.Field == "email" || inv.Field == "phone"):
		d.Problems.add("to", d.Form, "letters.err."+d.Form+"."+string(inv.Rule), nil)
	case errors.Is(err, prefs.ErrNoSender):
		status = http.StatusServiceUnavailable
		d.Problems.add("to", d.Form, "letters.err.no_sender."+d.Form, nil)
	case errors.Is(err, prefs.ErrNotSent):
		// A code, never err's text: a mail server's answer names the
		// address.
		s.log.WarnContext(r.Context(), "notice channel code not sent", "channel", d.Form, "person_id", personID,
			"code", notices.ErrorCode(err))
		status = http.StatusServiceUnavailable
		d.Problems.add("to", d.Form, "letters.err.not_sent."+d.Form, nil)
	case errors.Is(err, mandates.ErrTooManyCodes):
		status = http.StatusTooManyRequests
		d.Problems.add("to", d.Form, "letters.err.too_many_sent", nil)
	default:
		return err
	}
	s.render(w, r, status, "letters_to", s.title(d), d)
	return nil
}

// codePage asks for the code sent; with none waiting, the main page.
func (s *letterPages) codePage(w http.ResponseWriter, r *http.Request) error {
	_, _, _, d, err := s.load(r)
	if err != nil {
		return err
	}
	if !d.Waiting {
		http.Redirect(w, r, d.Base, http.StatusSeeOther)
		return nil
	}
	d.Form = "code"
	s.render(w, r, http.StatusOK, "letters_code", s.title(d), d)
	return nil
}

// code checks the code typed: the new channel counts from now, and the
// person gets a letter saying so.
func (s *letterPages) code(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requirePost(r); err != nil {
		return err
	}
	a, personID, _, d, err := s.load(r)
	if err != nil {
		return err
	}
	d.Form = "code"
	_, err = s.mandates.Letters.Confirm(r.Context(), a, personID, r.PostForm.Get("code"))
	var left mandates.CodeAttemptsLeft
	status := http.StatusBadRequest
	switch {
	case err == nil:
		http.Redirect(w, r, d.Base+"?fait=confirme", http.StatusSeeOther)
		return nil
	case errors.Is(err, mandates.ErrNotPermitted):
		return statusError(http.StatusNotFound)
	case errors.Is(err, mandates.ErrCodeWrong) && errors.As(err, &left):
		d.Left = int(left)
		d.Problems.add("code", "code", "letters.err.code_wrong", map[string]any{"Count": d.Left})
	case errors.Is(err, mandates.ErrCodeExpired):
		d.Problems.add("code", "code", "letters.err.code_expired", nil)
		d.Waiting = false
	case errors.Is(err, mandates.ErrTooManyCodes):
		status = http.StatusTooManyRequests
		d.Problems.add("code", "code", "letters.err.code_too_many", nil)
		d.Waiting = false
	default:
		return err
	}
	s.render(w, r, status, "letters_code", s.title(d), d)
	return nil
}

// paper puts the person back on paper at once: for good, or until the
// date typed (JJ/MM/AAAA, or AAAA-MM-JJ as a date field sends it).
func (s *letterPages) paper(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requirePost(r); err != nil {
		return err
	}
	a, personID, _, d, err := s.load(r)
	if err != nil {
		return err
	}
	var until time.Time
	d.Now = r.PostForm.Get("quand")
	switch d.Now {
	case "toujours":
	case "date":
		d.Value = strings.TrimSpace(r.PostForm.Get("date"))
		var ok bool
		if until, ok = readDay(d.Value); !ok {
			d.Problems.add("date", "date", "letters.err.date_format", nil)
		}
	default:
		d.Now = ""
		d.Problems.add("quand", "quand-toujours", "letters.err.when", nil)
	}
	if !d.Problems.Any() {
		_, err = s.mandates.Letters.BackToPaper(r.Context(), a, personID, until)
		var inv *mandates.InvalidError
		switch {
		case err == nil:
			done := "papier"
			if !until.IsZero() {
				done = "papier-date"
			}
			http.Redirect(w, r, d.Base+"?"+url.Values{"fait": {done}}.Encode(), http.StatusSeeOther)
			return nil
		case errors.Is(err, mandates.ErrNotPermitted):
			return statusError(http.StatusNotFound)
		case errors.As(err, &inv) && inv.Field == "until":
			d.Problems.add("date", "date", "letters.err.date_after", nil)
		default:
			return err
		}
	}
	s.render(w, r, http.StatusBadRequest, "letters", s.title(d), d)
	return nil
}

// readDay reads a day written JJ/MM/AAAA or AAAA-MM-JJ.
func readDay(v string) (time.Time, bool) {
	for _, layout := range []string{"02/01/2006", "2/1/2006", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// links are the space home's ways to these pages: the person's own, and
// one for each person the reader chooses for (the rule decides, measure
// by measure of the people they act for).
func (s *letterPages) links(r *http.Request, a mandates.Actor, forViews []mandates.View) ([]spaceLink, error) {
	out := []spaceLink{{Href: lettersPath, Label: "space.home.letters", Text: "space.home.letters_text"}}
	var seen []string
	for _, v := range forViews {
		if !v.Kind.IsMeasure() || slices.Contains(seen, v.PersonID) {
			continue
		}
		seen = append(seen, v.PersonID)
		_, err := s.mandates.Service.NoticesManagedBy(r.Context(), a, v.PersonID)
		switch {
		case errors.Is(err, mandates.ErrNotPermitted):
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, spaceLink{Href: strings.Replace(lettersForPath, "{person}", v.PersonID, 1), Label: "space.home.letters_for",
			Text: "space.home.letters_for_text", Data: map[string]any{"Name": v.PersonName}})
	}
	return out, nil
}
