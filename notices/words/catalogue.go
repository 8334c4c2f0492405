package words

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"text/template"
)

//go:embed catalogue.*.json
var files embed.FS

// Languages are the catalogues' languages, French first.
var Languages = []string{"fr", "en"}

// source is one catalogue file as written.
type source struct {
	// Kinds: for each kind of representation, the words that name it.
	Kinds map[string]kind `json:"kinds"`
	// Channels: « par e-mail », « par SMS », by channel.
	Channels map[string]string `json:"channels"`
	// LetterFollows ends an SMS that comes with a letter (notices.LetterToo):
	// « Une lettre suit. »
	LetterFollows string `json:"letter_follows"`
	// Blocks are lines several notices share (how to contest, how to
	// stop); a notice's line "@name" is replaced by the block's lines.
	Blocks map[string][]string `json:"blocks"`
	// Notices, by key « event », « event/role » or « event/role/class »
	// (Key): the words of each.
	Notices map[string]entrySource `json:"notices"`
}

// kind names a kind of representation in sentences.
type kind struct {
	A   string `json:"a"`   // « un mandat »
	The string `json:"the"` // « le mandat »
	To  string `json:"to"`  // « au mandat »
	// You is the kind with its meaning, said to the person: « la tutelle
	// (une personne choisie par le juge fait vos démarches) ».
	You string `json:"you"`
	// About is the same about the person, named {{.Person}}.
	About string `json:"about"`
}

type entrySource struct {
	Subject string   `json:"subject"`
	Lines   []string `json:"lines"`
	Short   string   `json:"short"`
}

// entry is a notice's words, parsed.
type entry struct {
	key     string
	subject *template.Template
	lines   []*template.Template
	short   *template.Template
}

type catalogue struct {
	lang          string
	kinds         map[string]kind
	channels      map[string]string
	letterFollows string
	notices       map[string]*entry
}

// Others is the role of a catalogue key that stands for every recipient
// but the person.
const Others = "others"

// Key is the catalogue key of a notice's words: event, role and class,
// the last two optional.
func Key(event, role, class string) string {
	k := event
	if role != "" {
		k += "/" + role
		if class != "" {
			k += "/" + class
		}
	}
	return k
}

// entry finds the words of event for a recipient of role about a
// representation of kind and class, the most precise first:
// event/role/kind, event/role/class, event/role, then for anyone but the
// person event/others/kind, event/others/class, event/others, and last
// event alone.
func (c *catalogue) entry(event, role, kind, class string) (*entry, error) {
	var keys []string
	roles := []string{role}
	if role != "person" {
		roles = append(roles, Others)
	}
	for _, r := range roles {
		for _, k := range []string{kind, class} {
			if k != "" {
				keys = append(keys, Key(event, r, k))
			}
		}
		keys = append(keys, Key(event, r, ""))
	}
	keys = append(keys, event)
	for _, k := range keys {
		if e, ok := c.notices[k]; ok {
			return e, nil
		}
	}
	return nil, fmt.Errorf("words: no %s words for %s to %s (%s)", c.lang, event, role, class)
}

// write executes e with f: the subject, the lines (a line that comes out
// empty is left out) and the short text, which ends with LetterFollows
// when f.LetterFollows.
func (c *catalogue) write(e *entry, f facts) (subject string, lines []string, short string, err error) {
	run := func(t *template.Template) (string, error) {
		var b bytes.Buffer
		if err := t.Execute(&b, f); err != nil {
			return "", fmt.Errorf("words: %s: %w", e.key, err)
		}
		return strings.Join(strings.Fields(b.String()), " "), nil
	}
	if subject, err = run(e.subject); err != nil {
		return
	}
	for _, t := range e.lines {
		l, err := run(t)
		if err != nil {
			return "", nil, "", err
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	if short, err = run(e.short); err == nil && f.LetterFollows {
		short += " " + c.letterFollows
	}
	return subject, lines, short, err
}

// funcs are the templates' functions: cap puts the first letter in
// capitals, for a sentence that starts with a kind's words; de is « de »
// before a name, elided before a vowel (« d’Ahmed Benali »).
var funcs = template.FuncMap{
	"cap": func(s string) string {
		for i, r := range s {
			if i == 0 {
				return strings.ToUpper(string(r)) + s[len(string(r)):]
			}
		}
		return s
	},
	"de": de("d’"),
}

// shortFuncs are the functions of the short texts (SMS): the same, but de
// elides with the plain apostrophe of the GSM alphabet (« d'Ahmed
// Benali »), so the text is not sent in UCS-2 for it (notices/sms
// Segments).
var shortFuncs = template.FuncMap{"cap": funcs["cap"], "de": de("d'")}

func de(elided string) func(string) string {
	return func(s string) string {
		if s != "" && strings.ContainsRune("AEIOUYÀÂÉÈÊÎÏÔÛaeiouyàâéèêîïôû", []rune(s)[0]) {
			return elided + s
		}
		return "de " + s
	}
}

// catalogues parses the embedded catalogues once. They are part of the
// binary: one that does not parse is a build defect the tests catch.
var catalogues = sync.OnceValues(func() (map[string]*catalogue, error) {
	out := map[string]*catalogue{}
	for _, lang := range Languages {
		c, err := load(lang)
		if err != nil {
			return nil, err
		}
		out[lang] = c
	}
	return out, nil
})

func load(lang string) (*catalogue, error) {
	name := "catalogue." + lang + ".json"
	buf, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var src source
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&src); err != nil {
		return nil, fmt.Errorf("words: %s: %w", name, err)
	}
	if strings.TrimSpace(src.LetterFollows) == "" {
		return nil, fmt.Errorf("words: %s: letter_follows is missing", name)
	}
	c := &catalogue{lang: lang, kinds: src.Kinds, channels: src.Channels, letterFollows: src.LetterFollows, notices: map[string]*entry{}}
	parse := func(key, part, text string) (*template.Template, error) {
		fm := funcs
		if part == "short" {
			fm = shortFuncs
		}
		t, err := template.New(key + " " + part).Option("missingkey=error").Funcs(fm).Parse(text)
		if err != nil {
			return nil, fmt.Errorf("words: %s: %s %s: %w", name, key, part, err)
		}
		return t, nil
	}
	for key, s := range src.Notices {
		if strings.TrimSpace(s.Subject) == "" || strings.TrimSpace(s.Short) == "" || len(s.Lines) == 0 {
			return nil, fmt.Errorf("words: %s: %s needs a subject, lines and a short text", name, key)
		}
		e := &entry{key: key}
		if e.subject, err = parse(key, "subject", s.Subject); err != nil {
			return nil, err
		}
		if e.short, err = parse(key, "short", s.Short); err != nil {
			return nil, err
		}
		for i, l := range s.Lines {
			texts := []string{l}
			if b, ok := strings.CutPrefix(l, "@"); ok {
				if texts, ok = src.Blocks[b]; !ok {
					return nil, fmt.Errorf("words: %s: %s line %d: no block %q", name, key, i+1, b)
				}
			}
			for _, text := range texts {
				t, err := parse(key, fmt.Sprint("line ", i+1), text)
				if err != nil {
					return nil, err
				}
				e.lines = append(e.lines, t)
			}
		}
		c.notices[key] = e
	}
	return c, nil
}
