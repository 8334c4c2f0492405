package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/locales"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// parseTemplates parses every page template (each file of templates/ but
// the layout, and partials whose names start with "_"), each with the
// layout and the partials.
func parseTemplates() (map[string]*template.Template, error) {
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout.html"}
	var pageNames []string
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		switch {
		case name == "layout":
		case strings.HasPrefix(name, "_"):
			shared = append(shared, f)
		default:
			pageNames = append(pageNames, name)
		}
	}
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs).Funcs(representationFuncs).ParseFS(templateFiles, append(slices.Clone(shared), "templates/"+name+".html")...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what every page template receives.
type pageData struct {
	Lang         string
	L            *i18n.Localizer
	Title        string
	OtherLang    string
	OtherLangURL string
	// SignedIn shows the links to the person's space and to sign out.
	SignedIn bool
	// Login is the way to sign in and come back here, shown in the
	// header when nobody is signed in; "" when signed in, on the login
	// page itself, or on a server without sign-in.
	Login string
	// Problems: the page shows a problem summary, so its title begins
	// with « Erreur : » (render sets it).
	Problems bool
	// KeepForm: the page's form (id "saisie") is kept when the person
	// switches language, so the switch is a button of that form, sent to
	// SwitchAction (keep.go).
	KeepForm     bool
	SwitchAction string
	// SessionEnds is when the signed-in person's session ends, as people
	// say the time ("14 h 05"); "" when nobody is signed in.
	SessionEnds string
	// Content is the page's own part, rendered before the layout.
	Content template.HTML
	Data    any
}

func (s *Server) pageData(r *http.Request, titleID string, data any) pageData {
	lang := requestLang(r)
	l := i18n.NewLocalizer(s.bundle, lang)
	other := otherLang(lang)
	return pageData{
		Lang:         lang,
		L:            l,
		Title:        translateData(l, titleID, data),
		OtherLang:    other,
		OtherLangURL: "/lang/" + other + "?next=" + url.QueryEscape(r.URL.RequestURI()),
		SignedIn:     signedIn(r),
		Login:        loginLink(r, s.oidc != nil, s.mandates != nil),
		KeepForm:     s.keeping().k != nil && keptRoute(r),
		SwitchAction: "/lang/" + other + "?next=" + url.QueryEscape(r.URL.Path),
		SessionEnds:  sessionEnds(r, lang),
		Data:         data,
	}
}

// sessionEnds is when the session ends, in the page's language. A login
// lasts SessionTTL from the moment it is made, whatever the person does
// meanwhile (startSession): that is the true limit.
func sessionEnds(r *http.Request, lang string) string {
	sess, ok := CurrentSession(r.Context())
	if !ok || sess.ExpiresAt.IsZero() {
		return ""
	}
	return locales.FormatTime(sess.ExpiresAt, lang)
}

// problemSummary is what every problem summary carries (_problems.html and
// the pages' own alerts): the element the page focuses on load.
// keptFormMark is what the form of a kept page carries (keep.go).
var (
	problemSummary = []byte(`id="probleme"`)
	keptFormMark   = []byte(`id="saisie"`)
)

// loginLink is the header's way to sign in: the login page, then back to
// this page (a GET) or home (after a form post, whose address shows no
// page by itself); from home, to « Mon espace », as the home page's own
// link does.
func loginLink(r *http.Request, signIn, space bool) string {
	if !signIn || signedIn(r) || r.URL.Path == "/login" {
		return ""
	}
	back := "/"
	switch {
	case r.URL.Path == "/" && space:
		back = spacePath
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		back = r.URL.RequestURI()
	}
	return "/login?" + url.Values{"return": {back}}.Encode()
}

// render writes a whole page, or a plain 500 if the template fails, so a
// broken template never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, titleID string, data any) {
	var content, buf bytes.Buffer
	pd := s.pageData(r, titleID, data)
	// The page's part first: whether it shows a problem summary decides
	// the title (WCAG 2.2 SC 3.3.1 and 2.4.2: the title says the page is
	// an error before anything else is read).
	err := s.templates[name].ExecuteTemplate(&content, "content", pd)
	if err == nil {
		pd.Problems = bytes.Contains(content.Bytes(), problemSummary)
		// A kept page that shows no form (a refusal, an error) keeps the
		// switch's link: a button of a form that is not there does nothing.
		pd.KeepForm = pd.KeepForm && bytes.Contains(content.Bytes(), keptFormMark)
		pd.Content = template.HTML(content.String()) // escaped by its own template
		err = s.templates[name].ExecuteTemplate(&buf, "layout", pd)
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", pd.Lang)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func signedIn(r *http.Request) bool {
	_, ok := CurrentSession(r.Context())
	return ok
}
