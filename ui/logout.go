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
func (s *signInPages) logoutForm(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	lr, err := s.parseLogout(r, r.Form)
	if err != nil {
		return err
	}
	if _, signedIn := CurrentSession(r.Context()); !signedIn {
		return s.loggedOut(w, r, lr)
	}
	allowFormTarget(w, lr.Redirect)
	s.render(w, r, http.StatusOK, "logout", "logout.title", logoutData{Site: lr.ClientName, Request: r.Form.Encode()})
	return nil
}

// logout signs the browser out, then returns to the site if it asked.
func (s *signInPages) logout(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	original, err := url.ParseQuery(r.PostForm.Get("request"))
	if err != nil {
		return statusError(http.StatusBadRequest)
	}
	lr, err := s.parseLogout(r, original)
	if err != nil {
		return err
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.sessions.DeleteSession(r.Context(), authn.SessionID(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.keeping().forgetKept(w, r) // the next person on this browser finds no form of the last one
	if sess, ok := CurrentSession(r.Context()); ok {
		s.log.InfoContext(r.Context(), "logout", "person_id", sess.PersonID)
		// Logged in through FranceConnect or ProConnect: its logout
		// next, then back to finish this one (upstream.go).
		if s.upstreamLogout(w, r, sess, original) {
			return nil
		}
	}
	return s.loggedOut(w, r, lr)
}

func (s *signInPages) parseLogout(r *http.Request, form url.Values) (authz.LogoutRequest, error) {
	lr, err := s.oidc.Provider.ParseLogout(r.Context(), form)
	if errors.Is(err, authz.ErrLogoutRequest) {
		s.log.InfoContext(r.Context(), "logout request refused", "err", err)
		return lr, statusError(http.StatusBadRequest)
	}
	return lr, err
}

func (s *signInPages) loggedOut(w http.ResponseWriter, r *http.Request, lr authz.LogoutRequest) error {
	if lr.Redirect != "" {
		http.Redirect(w, r, lr.Redirect, http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "logged_out", "logged_out.title", logoutData{Site: lr.ClientName})
	return nil
}
