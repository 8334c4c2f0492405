package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/authn"
)

// Forms that keep people's work (docs/forms.md). A form of keptForms,
// sent after the session ended or when the person switches language, is
// sealed (authn.FormKeeper) into a short-lived cookie bound to the form's
// page; the page, shown again by GET, fills the form from it, once. It
// never acts on the kept values: the person checks them and sends.

// keptCookie names the cookie that holds the form kept for the page at
// path: one per page, so a form kept for one page (the proxy's, while the
// person signs in) is never replaced by another's (the login's, when the
// person switches language there). Over https the name carries the
// __Host- prefix (RFC 6265bis §4.1.3.2): browsers then take the cookie only
// from Relais's own origin, Secure, with no domain, so a neighbouring
// subdomain cannot plant values in someone's form.
func keptCookie(path string, secure bool) string {
	sum := sha256.Sum256([]byte(path))
	name := keptPrefix + hex.EncodeToString(sum[:8])
	if secure {
		name = "__Host-" + name
	}
	return name
}

const keptPrefix = "relais_kept_"

// setKept sets (or, with "", removes) the cookie of the form kept for the
// page at path.
func (s keeping) setKept(w http.ResponseWriter, path, sealed string) {
	age := int(authn.KeptFormTTL.Seconds())
	if sealed == "" {
		age = -1
	}
	http.SetCookie(w, &http.Cookie{Name: keptCookie(path, s.secure), Value: sealed, Path: "/", MaxAge: age, HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode})
}

// forgetKept removes every kept form the browser holds: at sign-out, so
// the next person on this browser finds none.
func (s keeping) forgetKept(w http.ResponseWriter, r *http.Request) {
	for _, c := range r.Cookies() {
		if name := strings.TrimPrefix(c.Name, "__Host-"); strings.HasPrefix(name, keptPrefix) {
			http.SetCookie(w, &http.Cookie{Name: c.Name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure,
				SameSite: http.SameSiteLaxMode})
		}
	}
}

// The forms kept besides the login's (across the language switch only:
// it needs no session) and the proxy's (proxyNewPath, givingProxyPath):
// an aidant's new mandate and an operator's new measure.
const (
	aidantNewPath  = "/aidant/mandats/nouveau"
	measureNewPath = "/operateur/mesures/nouvelle"
)

// keptForms are the pages whose form is kept: the GET of each route shows
// the form and fills it from a kept one (keptForm), the POST of the same
// route takes it.
var keptForms = map[string]bool{"/login": true, proxyNewPath: true, givingProxyPath: true, aidantNewPath: true, measureNewPath: true,
	lettersPath + lettersToRoute: true, lettersForPath + lettersToRoute: true}

// keptRoute says whether r's route is a page whose form is kept.
func keptRoute(r *http.Request) bool {
	route := mux.CurrentRoute(r)
	if route == nil {
		return false
	}
	tpl, err := route.GetPathTemplate()
	return err == nil && keptForms[tpl]
}

// keeping is what kept forms need of the server: the sealer (nil when
// forms are not kept), the cookies' flag, the log and the routes. Its own
// type, so that Server stays within its number of methods.
type keeping struct {
	k      *authn.FormKeeper
	secure bool
	log    *slog.Logger
	router *mux.Router
}

func (s *Server) keeping() keeping {
	var k *authn.FormKeeper
	if s.oidc != nil {
		k = s.oidc.Forms
	}
	return keeping{k: k, secure: s.secure, log: s.log, router: s.router}
}

// keepForm seals values for the page at path into the browser's cookie.
// A form too large to keep is not kept (false).
func (s keeping) keepForm(w http.ResponseWriter, r *http.Request, path string, values url.Values, why authn.KeptReason) bool {
	k := s.k
	if k == nil {
		return false
	}
	sealed, err := k.Seal(path, values, why)
	if err != nil {
		s.log.InfoContext(r.Context(), "form not kept", "err", err)
		return false
	}
	s.setKept(w, path, sealed)
	return true
}

// keptFor reads the form kept for the page at path: found is false when
// there is none.
func (s keeping) keptFor(r *http.Request, path string) (f authn.KeptForm, found bool, err error) {
	k := s.k
	c, err := r.Cookie(keptCookie(path, s.secure))
	if k == nil || err != nil {
		return f, false, nil
	}
	f, err = k.Open(path, c.Value)
	return f, true, err
}

// keptForm fills the form of this page: the values kept for it (nil when
// none) and the message id that says so ("" when there is nothing to
// say). The kept form is used once. One that does not open (altered,
// expired, too large) is dropped with a plain message, never an error
// page.
func (s keeping) keptForm(w http.ResponseWriter, r *http.Request) (url.Values, string) {
	f, found, err := s.keptFor(r, r.URL.Path)
	if !found {
		return nil, ""
	}
	s.setKept(w, r.URL.Path, "")
	switch {
	case err != nil:
		// Expired, altered or too large (authn.ErrKeptForm…): all the
		// person can do is write it again.
		s.log.InfoContext(r.Context(), "kept form dropped", "err", err)
		return nil, "form.kept.lost"
	case f.Reason == authn.KeptSessionEnded:
		return f.Values, "form.kept.session"
	}
	return f.Values, ""
}

// keptNotice is, on the login page, the message that a form waits for the
// person at ret after this login; "" when none does.
func (s keeping) keptNotice(r *http.Request, ret string) string {
	u, err := url.Parse(ret)
	if err != nil {
		return ""
	}
	if f, found, err := s.keptFor(r, u.Path); found && err == nil && f.Reason == authn.KeptSessionEnded {
		return "form.kept.login"
	}
	return ""
}

// keepAfterSession answers a form of keptForms sent after the session
// ended: its values are kept, and the login leads back to its page,
// where they fill it. false when the form is not one that is kept.
func (s keeping) keepAfterSession(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || !keptRoute(r) || s.k == nil {
		return false
	}
	if err := r.ParseForm(); err != nil {
		return false
	}
	if !s.keepForm(w, r, r.URL.Path, r.PostForm, authn.KeptSessionEnded) {
		return false
	}
	http.Redirect(w, r, "/login?"+url.Values{"return": {r.URL.Path}}.Encode(), http.StatusSeeOther)
	return true
}

// switchLangKeeping is the language switch of a page whose form is kept:
// a button of that form, so what the person wrote comes back, in the
// other language, on the same page. It never acts on the form.
func (s *Server) switchLangKeeping(w http.ResponseWriter, r *http.Request) {
	next, err := url.Parse(localPath(r.URL.Query().Get("next")))
	if k := s.keeping(); err == nil && r.ParseForm() == nil && k.keptPath(next.Path) {
		// A sign-in's way back carries the site's ui_locales: it follows
		// the switch, as the switch's link does (flowSwitch).
		if ret := r.PostForm.Get("return"); ret != "" {
			r.PostForm.Set("return", flowSwitch(ret, mux.Vars(r)["lang"]))
		}
		k.keepForm(w, r, next.Path, r.PostForm, authn.KeptLanguage)
	}
	s.switchLang(w, r)
}

// keptPath says whether path is a page whose form is kept.
func (s keeping) keptPath(path string) bool {
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return false
	}
	var m mux.RouteMatch
	if !s.router.Match(req, &m) || m.Route == nil {
		return false
	}
	tpl, err := m.Route.GetPathTemplate()
	return err == nil && keptForms[tpl]
}
