package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

//go:embed locales/*.json
var catalogues embed.FS

// Languages, French first: it is the default and the fallback.
var supported = []language.Tag{language.French, language.English}

var matcher = language.NewMatcher(supported)

const langCookie = "relais_lang"

func newBundle() (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.French)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	// One file per language and subject: fr.json, en.json, and
	// <subject>.fr.json, <subject>.en.json.
	files, err := fs.Glob(catalogues, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, path := range files {
		buf, err := catalogues.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if _, err := b.ParseMessageFileBytes(buf, path); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", path, err)
		}
	}
	return b, nil
}

// requestLang picks the page language: the site's ui_locales on the pages
// of a sign-in (ui_locales.go), then the visible switch's choice (a
// cookie), then the browser's languages, then French.
func requestLang(r *http.Request) string {
	if l := flowLang(r); l != "" {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if c.Value == "fr" || c.Value == "en" {
			return c.Value
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "fr"
	}
	_, i, _ := matcher.Match(tags...)
	base, _ := supported[i].Base()
	return base.String()
}

func otherLang(lang string) string {
	if lang == "en" {
		return "fr"
	}
	return "en"
}

// translate returns the message id in l's language. A missing id is a
// programming error caught by the catalogue test; at run time it shows the
// id rather than failing the page.
func translate(l *i18n.Localizer, id string) string {
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id})
	if err != nil {
		return id
	}
	return s
}

func translateData(l *i18n.Localizer, id string, data any) string {
	s, tag, err := l.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	if base, _ := tag.Base(); base.String() == "fr" {
		s = elideFrench(s)
	}
	return s
}

// deBeforeVowel is « de » before a name that starts with a vowel sound:
// a capital vowel, or a Y before a consonant (Yvette, Yves; not Yasmine).
// An H is left alone: whether it is silent depends on the name.
var deBeforeVowel = regexp.MustCompile(`(^|[\s(])([Dd])e ([AEIOUÀÂÄÉÈÊËÎÏÔÖÙÛÜ]|Y[^AEIOUYaeiouy\s])`)

// elideFrench writes « d’ » for « de » before a name put in a message
// that starts with a vowel sound, as French does: « le compte d’Ahmed
// Benali », « la procuration d’Yvette Garnier ». Messages are written with
// « de {{.Name}} »; only what is put in them starts with a capital.
func elideFrench(s string) string {
	if !strings.Contains(s, "e ") {
		return s
	}
	return deBeforeVowel.ReplaceAllString(s, "$1$2’$3")
}

// kindMeans is « Tutelle veut dire : un juge a décidé… »: a measure's
// name and what it means in one sentence, the way a page explains a legal
// word the first time it uses it (PLAIN-LANGUAGE.md; ui/plainwords reads
// « veut dire » as the explanation). name is the person the measure
// protects, or "" when the reader is that person.
func kindMeans(l *i18n.Localizer, lang string, k mandates.Kind, name string) string {
	// Said to the reader about their own measure (« pour vous »), or about
	// the person it protects by name: never « la personne » (issue 17).
	explain := locales.KindExplainYou(k).In(lang)
	if name != "" {
		explain = locales.KindExplainOf(k, name).In(lang)
		if lang == "fr" {
			explain = elideFrench(explain) // « à la place d’Ahmed »
		}
	}
	if name == "" || !strings.HasPrefix(explain, name) {
		explain = lowerFirst(explain) // after the colon; a name keeps its capital
	}
	return translateData(l, "words.kind_means", map[string]any{"Kind": locales.Kind(k).In(lang), "Explain": explain})
}

// lowerFirst puts the first letter of a sentence in lower case, for a
// sentence that goes after a colon, unless the word is an acronym.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if next, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

var templateFuncs = template.FuncMap{
	"t":     translate,
	"tdata": translateData,
	"dict":  dict,
	"means": kindMeans,
}

// dict builds template data for a message: dict "Site" .Name.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}
