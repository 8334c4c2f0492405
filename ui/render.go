package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages are the page templates, each parsed with the layout.
var pageNames = []string{"home", "error", "login", "consent", "logout", "logged_out", "totp_login", "totp_setup", "totp_codes"}

func parseTemplates() (map[string]*template.Template, error) {
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
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
	Data         any
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
		Data:         data,
	}
}

// render writes a whole page, or a plain 500 if the template fails, so a
// broken template never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, titleID string, data any) {
	var buf bytes.Buffer
	pd := s.pageData(r, titleID, data)
	if err := s.templates[name].ExecuteTemplate(&buf, "layout", pd); err != nil {
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
