package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authn/upstream"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
)

// Upstream is the login through an upstream provider (issue 16, point 1):
// FranceConnect for persons. When OIDC.Upstream is nil, or its
// FranceConnect is, the login page has no FranceConnect button and these
// pages are absent.
type Upstream struct {
	FranceConnect *upstream.Client
	// ProConnect is the login of professionals (operators, aidants,
	// delegates); nil when the deployment has none.
	ProConnect *upstream.Client
	// RequireProConnect: operators and organisation members log in
	// through ProConnect only (mandates.LoginRule).
	RequireProConnect bool
	// Contact is where a person goes whom Relais cannot find by their
	// identity: the deployment's notices' name, address and phone.
	Contact Contact
}

// Contact is who a person can write to or call.
type Contact struct {
	Name    string
	Address string // lines separated by « ; »
	Phone   string
}

// The pages of the logins through an upstream provider, under
// /connexion/<provider>: Relais's return address registered at the
// provider (redirect_uri), and where the provider sends the browser back
// after its own logout (post_logout_redirect_uri).
const (
	FranceConnectReturnPath = "/connexion/franceconnect/retour"
	FranceConnectLogoutPath = "/connexion/franceconnect/deconnexion"
	ProConnectReturnPath    = "/connexion/proconnect/retour"
	ProConnectLogoutPath    = "/connexion/proconnect/deconnexion"
	upstreamCookie          = "relais_upstream"
)

// upstreamNames are how the pages name each provider.
var upstreamNames = map[string]string{authn.UpstreamFranceConnect: "FranceConnect", authn.UpstreamProConnect: "ProConnect"}

// upstreamPages are the pages of the logins through an upstream provider.
type upstreamPages struct{ *signInPages }

func (s *upstreamPages) mount(pages *mux.Router) {
	for _, c := range upstreamOf(s.oidc).clients() {
		base := "/connexion/" + c.Name()
		pages.HandleFunc(base, s.page(s.start(c))).Methods(http.MethodGet)
		pages.HandleFunc(base+"/retour", s.page(s.back(c))).Methods(http.MethodGet)
		pages.HandleFunc(base+"/deconnexion", s.page(s.loggedOutUpstream(c))).Methods(http.MethodGet)
	}
	if s.mandates != nil && upstreamOf(s.oidc).franceConnect() != nil {
		(&loginWaysPages{s.Server}).mount(pages) // in the person's space
	}
}

// upstreamOf is the deployment's upstream logins; nil when it has none
// (its methods answer for a nil one).
func upstreamOf(o *OIDC) *Upstream {
	if o == nil {
		return nil
	}
	return o.Upstream
}

// clients are the providers the deployment configured.
func (u *Upstream) clients() []*upstream.Client {
	if u == nil {
		return nil
	}
	var out []*upstream.Client
	for _, c := range []*upstream.Client{u.FranceConnect, u.ProConnect} {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

// franceConnect is the FranceConnect client, or nil.
func (u *Upstream) franceConnect() *upstream.Client {
	if u == nil {
		return nil
	}
	return u.FranceConnect
}

// startOf is the address of c's button for a login that goes back to
// ret, or "" when c is not offered.
func startOf(c *upstream.Client, ret string) string {
	if c == nil {
		return ""
	}
	return "/connexion/" + c.Name() + "?" + url.Values{"return": {ret}}.Encode()
}

// franceConnectStart and proConnectStart are the addresses of the buttons.
func (u *Upstream) franceConnectStart(ret string) string { return startOf(u.franceConnect(), ret) }

func (u *Upstream) proConnectStart(ret string) string {
	if u == nil {
		return ""
	}
	return startOf(u.ProConnect, ret)
}

// rule is the deployment's rule of who logs in how.
func (u *Upstream) rule() mandates.LoginRule {
	return mandates.LoginRule{RequireProConnect: u != nil && u.RequireProConnect}
}

// loginAllowed asks the domain whether the person may log in by method
// (mandates.LoginRule); when not, it answers the page that sends them to
// ProConnect and says false.
func (s *signInPages) loginAllowed(w http.ResponseWriter, r *http.Request, personID, method, ret string) (bool, error) {
	if s.mandates == nil {
		return true, nil
	}
	err := s.mandates.Service.LoginAllowed(r.Context(), upstreamOf(s.oidc).rule(), personID, method)
	switch {
	case errors.Is(err, mandates.ErrProConnectRequired):
		l := s.localizer(r)
		s.refusal(w, r, http.StatusForbidden, refusalData{Heading: translate(l, "upstream.require.heading"),
			Lead: translate(l, "upstream.require.lead"), NextSteps: []string{translate(l, "upstream.require.next")},
			Links: []refusalLink{{Href: upstreamOf(s.oidc).proConnectStart(ret), Text: translate(l, "upstream.pc.button")}}})
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// start sends the browser to the provider, with a cookie that binds the
// way back to this browser.
func (s *upstreamPages) start(c *upstream.Client) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		ret := returnPath(r.URL.Query().Get("return"))
		// From /activer: once linked, the person lands in their space.
		if r.URL.Query().Get("activer") != "" && r.URL.Query().Get("return") == "" && s.mandates != nil {
			ret = spacePath
		}
		to, binding, err := c.Start(r.Context(), ret)
		if err != nil {
			return s.upstreamRefused(w, r, c, err, ret)
		}
		http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: binding, Path: "/connexion/", MaxAge: 600,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
}

// back checks the provider's answer, finds the person and signs the
// browser in, with how the provider says the person logged in.
func (s *upstreamPages) back(c *upstream.Client) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		binding := ""
		if ck, err := r.Cookie(upstreamCookie); err == nil {
			binding = ck.Value
		}
		http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: "", Path: "/connexion/", MaxAge: -1,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		id, err := c.Finish(ctx, r.URL.Query(), binding)
		ret := returnPath(id.Return)
		if err != nil {
			return s.upstreamRefused(w, r, c, err, ret)
		}
		out, err := c.Resolve(ctx, id)
		if err != nil {
			return s.upstreamRefused(w, r, c, err, ret)
		}
		if ok, err := s.loginAllowed(w, r, out.PersonID, c.Name(), ret); !ok || err != nil {
			return err
		}
		s.log.InfoContext(ctx, "upstream login", "person_id", out.PersonID, "upstream", c.Name(), "linked", out.Linked, "opened", out.Opened)
		amr := relaisAMR(id.AMR)
		// The provider proved who the person is, as a password does; a
		// person who turned the second factor on gives its code next, on
		// the same pages as after the password (DESIGN.md §4).
		on, err := s.secondFactorOn(ctx, out.PersonID)
		if err != nil {
			return err
		}
		if on {
			return s.startPendingLogin(w, r, authn.PendingLogin{PersonID: out.PersonID, AMR: amr, ACR: id.ACR,
				Upstream: c.Name(), UpstreamIDToken: id.IDToken}, ret)
		}
		return s.startSession(w, r, authn.BrowserSession{PersonID: out.PersonID, AMR: amr, ACR: id.ACR,
			Upstream: c.Name(), UpstreamIDToken: id.IDToken}, ret)
	}
}

// relaisAMR is the provider's amr as the session keeps it, without "otp".
// In a session, "otp" means the person gave Relais the code of the app
// they tied to their account: it is Relais's second factor (actor, in
// representations.go: mandates.Actor.SecondFactor), which acting for an
// organisation and the operators' sensitive acts need (DESIGN.md §4).
// The provider's "otp" says only how the provider checked its own
// account, which Relais cannot vouch for; so it is dropped here, the one
// place an upstream amr enters a session, rather than having every reader
// tell two kinds of sessions apart. The other values ("pwd", "mfa", ...)
// stay, and the provider's level still reaches the tokens through the
// session's ACR (authz.StrongerACR). After Relais's own code step the
// session gets "otp" as the password login's does (codeLogin).
func relaisAMR(amr []string) []string {
	out := make([]string, 0, len(amr))
	for _, v := range amr {
		if v != "otp" {
			out = append(out, v)
		}
	}
	return out
}

// upstreamRefused answers a refused upstream login with a plain page: what
// happened, what to do now, and the login with a password, which still
// works.
func (s *upstreamPages) upstreamRefused(w http.ResponseWriter, r *http.Request, c *upstream.Client, err error, ret string) error {
	var refused *upstream.RefusedError
	reason := ""
	switch {
	case errors.As(err, &refused):
		reason = refused.Reason
		s.log.InfoContext(r.Context(), "upstream login refused", "upstream", c.Name(), "reason", reason, "err", err)
	case errors.Is(err, upstream.ErrCancelled):
		reason = "cancelled"
	default:
		return err
	}
	l := s.localizer(r)
	words := func(id string) string {
		return translateData(l, id, map[string]string{"Provider": upstreamNames[c.Name()]})
	}
	key, status, again := "upstream.failed", http.StatusBadRequest, true
	switch reason {
	case upstream.ReasonUnavailable:
		key, status = "upstream.unavailable", http.StatusServiceUnavailable
	case upstream.ReasonNoMatch:
		key, status, again = "upstream.no_match", http.StatusForbidden, false
	case upstream.ReasonAmbiguous:
		key, status, again = "upstream.ambiguous", http.StatusConflict, false
	case upstream.ReasonNotMember:
		key, status, again = "upstream.not_member", http.StatusForbidden, false
	case upstream.ReasonExpired:
		key = "upstream.expired"
	case "cancelled":
		key, status = "upstream.cancelled", http.StatusOK
	}
	d := refusalData{Heading: words(key + ".heading"), Lead: words(key + ".lead"), NextSteps: []string{words(key + ".next")}}
	if reason == upstream.ReasonNoMatch || reason == upstream.ReasonAmbiguous {
		d.NextSteps = append(d.NextSteps, translate(l, "upstream.desk"))
		if ct := s.oidc.Upstream.Contact; ct.Name != "" && (ct.Address != "" || ct.Phone != "") {
			d.NextSteps = append(d.NextSteps, contactLine(l, ct))
		}
	}
	d.Links = []refusalLink{{Href: "/login?" + url.Values{"return": {ret}}.Encode(), Text: translate(l, "upstream.password_login")}}
	if again {
		d.Links = append(d.Links, refusalLink{Href: "/connexion/" + c.Name() + "?" + url.Values{"return": {ret}}.Encode(), Text: words("upstream.try_again")})
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60")
	}
	s.refusal(w, r, status, d)
	return nil
}

// contactLine says whom to write to or call, from the notices' settings.
func contactLine(l *i18n.Localizer, c Contact) string {
	address := strings.Join(strings.FieldsFunc(c.Address, func(r rune) bool { return r == ';' }), ",")
	switch {
	case c.Address != "" && c.Phone != "":
		return translateData(l, "upstream.contact_both", map[string]string{"Name": c.Name, "Address": address, "Phone": c.Phone})
	case c.Phone != "":
		return translateData(l, "upstream.contact_phone", map[string]string{"Name": c.Name, "Phone": c.Phone})
	}
	return translateData(l, "upstream.contact_address", map[string]string{"Name": c.Name, "Address": address})
}

// upstreamLogout sends the browser to the provider's logout, when the
// session was opened through one; back is the logout request to finish
// once the provider sends the browser back. It says false when there is
// nothing to do upstream (a password session, or a provider without a
// logout): Relais's own logout goes on.
func (s *signInPages) upstreamLogout(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, back url.Values) bool {
	if sess.Upstream == "" || sess.UpstreamIDToken == "" {
		return false
	}
	for _, c := range upstreamOf(s.oidc).clients() {
		if c.Name() != sess.Upstream {
			continue
		}
		to, err := c.LogoutURL(r.Context(), sess.UpstreamIDToken, back.Encode())
		if err != nil {
			// The provider cannot be reached: Relais's logout is done,
			// and the person is told so on Relais's page.
			s.log.WarnContext(r.Context(), "upstream logout not reached", "upstream", c.Name(), "err", err)
			return false
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return true
	}
	return false
}

// loggedOutUpstream is where the provider sends the browser back after
// its logout: the logout request that started it ends as Relais's own
// would have (back to the site, or the logged-out page).
func (s *upstreamPages) loggedOutUpstream(c *upstream.Client) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		back, ok, err := c.FinishLogout(r.Context(), r.URL.Query().Get("state"))
		if err != nil {
			return err
		}
		var lr authz.LogoutRequest
		if ok {
			if original, err := url.ParseQuery(back); err == nil {
				if parsed, err := s.parseLogout(r, original); err == nil {
					lr = parsed
				}
			}
		}
		return s.loggedOut(w, r, lr)
	}
}
