package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
)

type logoutData struct {
	Site    string
	Request string
}

// logoutForm is the end-session endpoint (RP-Initiated Logout 1.0): a site
// sends the person here; Relais asks before it signs them out, so that a
// link on another site cannot sign anyone out (§2: the OP should confirm).
func (s *Server) logoutForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.formError(w, r, err)
		return
	}
	lr, ok := s.parseLogout(w, r, r.Form)
	if !ok {
		return
	}
	if _, signedIn := CurrentSession(r.Context()); !signedIn {
		s.loggedOut(w, r, lr)
		return
	}
	allowFormTarget(w, lr.Redirect)
	s.render(w, r, http.StatusOK, "logout", "logout.title", logoutData{Site: lr.ClientName, Request: r.Form.Encode()})
}

// logout signs the browser out, then returns to the site if it asked.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.formError(w, r, err)
		return
	}
	original, err := url.ParseQuery(r.PostForm.Get("request"))
	if err != nil {
		s.Error(w, r, http.StatusBadRequest)
		return
	}
	lr, ok := s.parseLogout(w, r, original)
	if !ok {
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.sessions.DeleteSession(r.Context(), authn.SessionID(c.Value)); err != nil {
			s.StoreError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	if sess, ok := CurrentSession(r.Context()); ok {
		s.log.InfoContext(r.Context(), "logout", "person_id", sess.PersonID)
	}
	s.loggedOut(w, r, lr)
}

func (s *Server) parseLogout(w http.ResponseWriter, r *http.Request, form url.Values) (authz.LogoutRequest, bool) {
	lr, err := s.oidc.Provider.ParseLogout(r.Context(), form)
	switch {
	case errors.Is(err, authz.ErrLogoutRequest):
		s.log.InfoContext(r.Context(), "logout request refused", "err", err)
		s.Error(w, r, http.StatusBadRequest)
		return lr, false
	case err != nil:
		s.StoreError(w, r, err)
		return lr, false
	}
	return lr, true
}

func (s *Server) loggedOut(w http.ResponseWriter, r *http.Request, lr authz.LogoutRequest) {
	if lr.Redirect != "" {
		http.Redirect(w, r, lr.Redirect, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "logged_out", "logged_out.title", logoutData{Site: lr.ClientName})
}
