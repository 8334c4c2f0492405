package locales

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/relais-fr/relais/mandates"
)

//go:embed *.json
var files embed.FS

// Text is a word or a sentence in Relais's two languages.
type Text struct {
	FR, EN string
}

// In returns the text in lang ("fr" or "en"), French by default.
func (t Text) In(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.FR
}

// catalogue is the parsed catalogues: one localizer per language, and
// every message without parameters already in both languages, so that a
// label is a map lookup.
type catalogue struct {
	fr, en *i18n.Localizer
	plain  map[string]Text
}

// words parses the embedded catalogues once. They are part of the binary,
// so a catalogue that does not parse is a build defect (TestTheCataloguesParse),
// not a run-time condition.
var words = sync.OnceValue(func() catalogue {
	c, err := load()
	if err != nil {
		panic(err)
	}
	return c
})

// load reads every catalogue, <subject>.<lang>.json, into a go-i18n bundle.
func load() (catalogue, error) {
	b := i18n.NewBundle(language.French)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	paths, err := fs.Glob(files, "*.json")
	if err != nil {
		return catalogue{}, err
	}
	ids := map[string]bool{}
	for _, path := range paths {
		buf, err := files.ReadFile(path)
		if err != nil {
			return catalogue{}, err
		}
		mf, err := b.ParseMessageFileBytes(buf, path)
		if err != nil {
			return catalogue{}, fmt.Errorf("catalogue %s: %w", path, err)
		}
		for _, m := range mf.Messages {
			ids[m.ID] = !strings.Contains(m.Other, "{{")
		}
	}
	c := catalogue{fr: i18n.NewLocalizer(b, "fr"), en: i18n.NewLocalizer(b, "en"), plain: map[string]Text{}}
	for id, plain := range ids {
		if plain {
			c.plain[id] = Text{FR: say(c.fr, id, nil, ""), EN: say(c.en, id, nil, "")}
		}
	}
	return c, nil
}

// say is message id in l's language with data, or fallback when the
// catalogues lack it.
func say(l *i18n.Localizer, id string, data map[string]string, fallback string) string {
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return fallback
	}
	return s
}

// both is message id, one without parameters, in both languages, or
// fallback in both.
func both(id, fallback string) Text {
	if t, ok := words().plain[id]; ok {
		return t
	}
	return Text{FR: fallback, EN: fallback}
}

// Kind is the kind's name, for a heading: "Tutelle".
func Kind(k mandates.Kind) Text { return both("kind."+string(k), "") }

// KindThe is the kind's name inside a sentence, with its article: "la
// tutelle".
func KindThe(k mandates.Kind) Text { return both("kind."+string(k)+".the", "") }

// KindExplain says in one plain sentence what the kind means.
func KindExplain(k mandates.Kind) Text { return both("kind."+string(k)+".plain", "") }

// KindExplainYou is KindExplain said to the person the kind protects or
// helps, on their own pages (issue 17: « vous », never « la personne »).
func KindExplainYou(k mandates.Kind) Text { return both("kind."+string(k)+".plain_you", "") }

// KindExplainOf is KindExplain about a person named name, for the one
// who acts for them (issue 17: the person by their name, never « la
// personne »).
func KindExplainOf(k mandates.Kind, name string) Text {
	id, data := "kind."+string(k)+".plain_of", map[string]string{"Name": name}
	c := words()
	return Text{FR: say(c.fr, id, data, ""), EN: say(c.en, id, data, "")}
}

// Role is the role's name, for a list: "Tuteur ou tutrice".
func Role(r mandates.Role) Text { return both("role."+string(r), "") }

// Action names an action class in plain words.
func Action(a mandates.Action) Text { return both("action."+string(a), string(a)) }

// Decision names a decision in plain words; anything but allowed and
// cosign reads as no.
func Decision(d mandates.Decision) Text {
	if d != mandates.Allowed && d != mandates.Cosign {
		d = mandates.No
	}
	return both("decision."+string(d), string(d))
}

// Status names a status in plain words.
func Status(s mandates.Status) Text { return both("status."+string(s), string(s)) }

// Area names a procedure area; empty for an unknown code.
func Area(a mandates.Area) Text { return both("area."+string(a), "") }

// AreaDescription lists, in plain words, what a procedure area holds.
func AreaDescription(a mandates.Area) Text { return both("area."+string(a)+".description", "") }

// OrganisationKind names the kind of an organisation; an unknown kind is
// named as other.
func OrganisationKind(k mandates.OrganisationKind) Text {
	if !slices.Contains(mandates.OrganisationKinds, k) {
		k = mandates.OrgOther
	}
	return both("organisation_kind."+string(k), "")
}

// Duration names a mandate's length in plain words.
func Duration(d mandates.Duration) Text { return both("duration."+string(d), string(d)) }
