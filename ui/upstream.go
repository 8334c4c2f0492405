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
)

// Upstream is the login through an upstream provider (issue 16, point 1):
// FranceConnect for persons. When OIDC.Upstream is nil, or its
// FranceConnect is, the login page has no FranceConnect button and these
// pages are absent.
type Upstream struct {
	FranceConnect *upstream.Client
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

// The pages of the FranceConnect login.
const (
	franceConnectPath       = "/connexion/franceconnect"
	franceConnectReturnPath = "/connexion/franceconnect/retour"
	// FranceConnectLogoutPath is where FranceConnect sends the browser
	// back after its own logout (post_logout_redirect_uri).
	FranceConnectLogoutPath = "/connexion/franceconnect/deconnexion"
	// FranceConnectReturnPath is Relais's return address, registered at
	// FranceConnect (redirect_uri).
	FranceConnectReturnPath = franceConnectReturnPath
	upstreamCookie          = "relais_upstream"
)

// upstreamPages are the pages of the logins through an upstream provider.
type upstreamPages struct{ *signInPages }

func (s *upstreamPages) mount(pages *mux.Router) {
	pages.HandleFunc(franceConnectPath, s.page(s.startFranceConnect)).Methods(http.MethodGet)
	pages.HandleFunc(franceConnectReturnPath, s.page(s.franceConnectReturn)).Methods(http.MethodGet)
	pages.HandleFunc(FranceConnectLogoutPath, s.page(s.franceConnectLoggedOut)).Methods(http.MethodGet)
	if s.mandates != nil {
		(&loginWaysPages{s.Server}).mount(pages) // in the person's space
	}
}

// franceConnect is the FranceConnect client, or nil when the deployment
// has none.
func (s *Server) franceConnect() *upstream.Client {
	if s.oidc == nil || s.oidc.Upstream == nil {
		return nil
	}
	return s.oidc.Upstream.FranceConnect
}

// franceConnectStart is the address of the FranceConnect button for a
// login that goes back to ret, or "" when FranceConnect is not offered.
func (s *Server) franceConnectStart(ret string) string {
	if s.franceConnect() == nil {
		return ""
	}
	return franceConnectPath + "?" + url.Values{"return": {ret}}.Encode()
}

// startFranceConnect sends the browser to FranceConnect, with a cookie
// that binds the way back to this browser.
func (s *upstreamPages) startFranceConnect(w http.ResponseWriter, r *http.Request) error {
	fc := s.franceConnect()
	ret := returnPath(r.URL.Query().Get("return"))
	// From /activer: once linked, the person lands in their space.
	if r.URL.Query().Get("activer") != "" && r.URL.Query().Get("return") == "" {
		ret = "/"
	}
	to, binding, err := fc.Start(r.Context(), ret)
	if err != nil {
		return s.upstreamRefused(w, r, err, ret)
	}
	http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: binding, Path: "/connexion/", MaxAge: 600,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// franceConnectReturn checks FranceConnect's answer, finds the person and
// signs the browser in, with how FranceConnect says the person logged in.
func (s *upstreamPages) franceConnectReturn(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	fc := s.franceConnect()
	binding := ""
	if c, err := r.Cookie(upstreamCookie); err == nil {
		binding = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: "", Path: "/connexion/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	id, err := fc.Finish(ctx, r.URL.Query(), binding)
	ret := returnPath(id.Return)
	if err != nil {
		return s.upstreamRefused(w, r, err, ret)
	}
	out, err := fc.Resolve(ctx, id)
	if err != nil {
		return s.upstreamRefused(w, r, err, ret)
	}
	now := s.now().UTC()
	token, sid := authn.NewSessionToken()
	err = s.sessions.CreateSession(ctx, authn.BrowserSession{ID: sid, PersonID: out.PersonID, AuthTime: now, AMR: id.AMR,
		CreatedAt: now, ExpiresAt: now.Add(s.oidc.SessionTTL), ACR: id.ACR, Upstream: fc.Name(), UpstreamIDToken: id.IDToken})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(s.oidc.SessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.log.InfoContext(ctx, "login", "person_id", out.PersonID, "upstream", fc.Name(), "linked", out.Linked, "opened", out.Opened)
	http.Redirect(w, r, ret, http.StatusSeeOther)
	return nil
}

// upstreamRefused answers a refused upstream login with a plain page: what
// happened, what to do now, and the login with a password, which still
// works.
func (s *upstreamPages) upstreamRefused(w http.ResponseWriter, r *http.Request, err error, ret string) error {
	var refused *upstream.RefusedError
	reason := ""
	switch {
	case errors.As(err, &refused):
		reason = refused.Reason
		s.log.InfoContext(r.Context(), "upstream login refused", "reason", reason, "err", err)
	case errors.Is(err, upstream.ErrCancelled):
		reason = "cancelled"
	default:
		return err
	}
	l := s.localizer(r)
	key, status := "upstream.failed", http.StatusBadRequest
	switch reason {
	case upstream.ReasonUnavailable:
		key, status = "upstream.unavailable", http.StatusServiceUnavailable
	case upstream.ReasonNoMatch:
		key, status = "upstream.no_match", http.StatusForbidden
	case upstream.ReasonAmbiguous:
		key, status = "upstream.ambiguous", http.StatusConflict
	case upstream.ReasonExpired:
		key = "upstream.expired"
	case "cancelled":
		key, status = "upstream.cancelled", http.StatusOK
	}
	d := refusalData{Heading: translate(l, key+".heading"), Lead: translate(l, key+".lead"),
		NextSteps: []string{translate(l, key+".next")}}
	if reason == upstream.ReasonNoMatch || reason == upstream.ReasonAmbiguous {
		d.NextSteps = append(d.NextSteps, translate(l, "upstream.desk"))
		if c := s.oidc.Upstream.Contact; c.Name != "" && (c.Address != "" || c.Phone != "") {
			d.NextSteps = append(d.NextSteps, contactLine(l, c))
		}
	}
	d.Links = []refusalLink{{Href: "/login?" + url.Values{"return": {ret}}.Encode(), Text: translate(l, "upstream.password_login")}}
	if reason == upstream.ReasonUnavailable || reason == "cancelled" || key == "upstream.failed" || key == "upstream.expired" {
		d.Links = append(d.Links, refusalLink{Href: s.franceConnectStart(ret), Text: translate(l, "upstream.try_again")})
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

// upstreamLogout sends the browser to FranceConnect's logout, when
// the session was opened through it; back is the logout request to finish
// once FranceConnect sends the browser back. ok is false when there is
// nothing to do upstream (a password session, or a provider without a
// logout): Relais's own logout goes on.
func (s *signInPages) upstreamLogout(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, back url.Values) bool {
	fc := s.franceConnect()
	if fc == nil || sess.Upstream != fc.Name() || sess.UpstreamIDToken == "" {
		return false
	}
	to, err := fc.LogoutURL(r.Context(), sess.UpstreamIDToken, back.Encode())
	if err != nil {
		// FranceConnect cannot be reached: Relais's logout is done, and
		// the person is told so on Relais's page.
		s.log.WarnContext(r.Context(), "upstream logout not reached", "upstream", fc.Name(), "err", err)
		return false
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return true
}

// franceConnectLoggedOut is where FranceConnect sends the browser back
// after its logout: the logout request that started it ends as Relais's
// own would have (back to the site, or the logged-out page).
func (s *upstreamPages) franceConnectLoggedOut(w http.ResponseWriter, r *http.Request) error {
	back, ok, err := s.franceConnect().FinishLogout(r.Context(), r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	var lr authz.LogoutRequest
	if ok {
		original, err := url.ParseQuery(back)
		if err == nil {
			if parsed, err := s.parseLogout(r, original); err == nil {
				lr = parsed
			}
		}
	}
	return s.loggedOut(w, r, lr)
}
