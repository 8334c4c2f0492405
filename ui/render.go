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
	Data     any
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

func signedIn(r *http.Request) bool {
	_, ok := CurrentSession(r.Context())
	return ok
}
