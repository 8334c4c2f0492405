package plainwords

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed words.fr.txt
var wordsFR string

//go:embed words.en.txt
var wordsEN string

// Term is a word of the list: its forms and how to say it plainly.
type Term struct {
	Forms []string // lower case; the first is the word's name
	Plain string
}

// Rules are what a page is checked against.
type Rules struct {
	MaxWords   int
	MaxAverage float64
	Terms      []Term
}

// For is the rule book's rules for pages in lang ("fr" or "en"): the
// limits of limits.go and the list of words.fr.txt or words.en.txt (the
// English pages follow the same rules, PLAIN-LANGUAGE.md).
func For(lang string) (Rules, error) {
	list, name := wordsFR, "words.fr.txt"
	switch lang {
	case "fr":
	case "en":
		list, name = wordsEN, "words.en.txt"
	default:
		return Rules{}, fmt.Errorf("plainwords: no word list for %q", lang)
	}
	terms, err := ParseTerms(list)
	if err != nil {
		return Rules{}, fmt.Errorf("%s: %w", name, err)
	}
	return Rules{MaxWords: MaxWords, MaxAverage: MaxAverage, Terms: terms}, nil
}

// ParseTerms reads a list in the format of words.fr.txt.
func ParseTerms(list string) ([]Term, error) {
	var terms []Term
	sc := bufio.NewScanner(strings.NewReader(list))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		forms, plain, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(plain) == "" {
			return nil, fmt.Errorf("plainwords: line %d: want « forms = how to say it plainly »", n)
		}
		t := Term{Plain: strings.TrimSpace(plain)}
		for _, f := range strings.Split(forms, "|") {
			if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
				t.Forms = append(t.Forms, f)
			}
		}
		if len(t.Forms) == 0 {
			return nil, fmt.Errorf("plainwords: line %d: no word", n)
		}
		terms = append(terms, t)
	}
	return terms, sc.Err()
}

// Rule names a rule a page can breach.
type Rule string

const (
	TooLong     Rule = "sentence too long"
	LongAverage Rule = "average too long"
	Unexplained Rule = "word unexplained"
	NoNextStep  Rule = "refusal without next step"
)

// Breach is one breach of a rule, with the sentence it is in.
type Breach struct {
	Rule     Rule
	Sentence string  // the sentence, or the refusal's text
	Words    int     // TooLong: the sentence's words
	Average  float64 // LongAverage: the page's average
	Term     Term    // Unexplained: the word
}

func (b Breach) String() string {
	switch b.Rule {
	case TooLong:
		return fmt.Sprintf("%s (%d words, at most %d): %q", b.Rule, b.Words, MaxWords, b.Sentence)
	case LongAverage:
		return fmt.Sprintf("%s: %.1f words a sentence, want under %.0f", b.Rule, b.Average, MaxAverage)
	case Unexplained:
		return fmt.Sprintf("%s: « %s » (say: %s), first in %q", b.Rule, b.Term.Forms[0], b.Term.Plain, b.Sentence)
	}
	return fmt.Sprintf("%s: %q", b.Rule, b.Sentence)
}

// Check returns every breach of the rules on p, in reading order, the
// average last.
func (r Rules) Check(p Page) []Breach {
	var out []Breach
	total := 0
	for _, s := range p.Sentences {
		total += s.Words
		if s.Words > r.MaxWords {
			out = append(out, Breach{Rule: TooLong, Sentence: s.Text, Words: s.Words})
		}
	}
	out = append(out, r.unexplained(p)...)
	for _, ref := range p.Refusals {
		if !ref.NextStep {
			out = append(out, Breach{Rule: NoNextStep, Sentence: ref.Text})
		}
	}
	if len(p.Sentences) > 0 {
		if avg := float64(total) / float64(len(p.Sentences)); avg >= r.MaxAverage {
			out = append(out, Breach{Rule: LongAverage, Average: avg})
		}
	}
	return out
}

// match is one occurrence of a form in a sentence.
type match struct{ start, end int }

// unexplained finds, for each term, its first occurrence on the page and
// tells whether it is explained there (doc.go).
func (r Rules) unexplained(p Page) []Breach {
	var out []Breach
	for _, t := range r.Terms {
		for i, s := range p.Sentences {
			ms := t.find(strings.ToLower(s.Text))
			if len(ms) == 0 {
				continue
			}
			if !r.explainedAt(p, i, t, ms[0]) {
				out = append(out, Breach{Rule: Unexplained, Sentence: s.Text, Term: t})
			}
			break
		}
	}
	return out
}

// explainedAt tells whether the occurrence m of t in sentence i is
// explained there, or t in another sentence of the same part.
func (r Rules) explainedAt(p Page, i int, t Term, m match) bool {
	s := p.Sentences[i]
	if r.explained(s, strings.ToLower(s.Text), m) {
		return true
	}
	if s.Part == 0 {
		return false
	}
	for j, o := range p.Sentences {
		if j == i || o.Part != s.Part {
			continue
		}
		lower := strings.ToLower(o.Text)
		for _, om := range t.find(lower) {
			if r.explained(o, lower, om) {
				return true
			}
		}
	}
	return false
}

// explained tells whether the occurrence m in s is explained: inside a
// <dfn> of s, or followed by an explanation, itself or a longer listed
// word that holds it (« curatelle » in « curatelle renforcée (…) »).
func (r Rules) explained(s Sentence, lower string, m match) bool {
	word := lower[m.start:m.end]
	for _, d := range s.Defined {
		if strings.Contains(d, word) {
			return true
		}
	}
	if explains(lower[m.end:]) {
		return true
	}
	for _, t := range r.Terms {
		for _, o := range t.find(lower) {
			if o.start <= m.start && o.end >= m.end && o != m && explains(lower[o.end:]) {
				return true
			}
		}
	}
	return false
}

// explains tells whether rest, the text after a word, starts with an
// explanation.
func explains(rest string) bool {
	rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
	if strings.HasPrefix(rest, "(") {
		return true
	}
	for _, p := range []string{"veut dire", "est le nom d", "désigne", "means", "is the name of"} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	// « : c'est… » and « , c'est-à-dire… » explain; « , c'est Marie
	// qui… » does not.
	if after, ok := strings.CutPrefix(rest, ":"); ok {
		after = strings.TrimLeftFunc(after, unicode.IsSpace)
		for _, p := range []string{"c'est", "c’est", "it is", "that is"} {
			if strings.HasPrefix(after, p) {
				return true
			}
		}
	}
	if after, ok := strings.CutPrefix(rest, ","); ok {
		after = strings.TrimLeftFunc(after, unicode.IsSpace)
		for _, p := range []string{"c'est-à-dire", "c’est-à-dire", "that is"} {
			if strings.HasPrefix(after, p) {
				return true
			}
		}
	}
	return false
}

// find returns the occurrences of t's forms in lower as whole words, in
// order.
func (t Term) find(lower string) []match {
	var out []match
	for _, f := range t.Forms {
		for from := 0; ; {
			i := strings.Index(lower[from:], f)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(f)
			if boundary(lower, start, end) {
				out = append(out, match{start, end})
			}
			from = start + 1
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// boundary tells whether s[start:end] stands as whole words.
func boundary(s string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:start])
		if isWordRune(r) {
			return false
		}
	}
	if end < len(s) {
		r, _ := utf8.DecodeRuneInString(s[end:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }
