package plainwords

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Page is what a screen reader meets on a page: its sentences in reading
// order and the refusals the templates marked.
type Page struct {
	Sentences []Sentence
	Refusals  []Refusal
}

// Sentence is one sentence of a page.
type Sentence struct {
	Text    string
	Words   int
	Defined []string // the text of each <dfn> inside the sentence, lower case
	// Part numbers the nearest list item, description, cell, section,
	// fieldset or details holding the sentence (0: none), so that a word
	// explained in the same part counts as explained on the spot.
	Part int
}

// Refusal is an element marked data-refusal.
type Refusal struct {
	Text     string // its visible text, one line
	NextStep bool   // it holds a link, a button or a class next-step element with words
}

// Read returns the visible text of the HTML page r, cut into sentences,
// and its refusals. Inside <pre> and inside an element of one of the
// classes lines (those whose style keeps line breaks, white-space: pre…),
// every line break ends a sentence, as the reader sees it.
func Read(r io.Reader, lines ...string) (Page, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return Page{}, fmt.Errorf("plainwords: parse: %w", err)
	}
	rd := reader{lines: lines}
	rd.walk(doc)
	rd.flush()
	return Page{Sentences: rd.sentences, Refusals: rd.refusals}, nil
}

// reader gathers the text of the current block and the <dfn> spans in it.
type reader struct {
	block     strings.Builder
	dfns      []span
	sentences []Sentence
	refusals  []Refusal
	lines     []string // classes that keep line breaks
	inLines   int      // depth inside such an element
	parts     []int    // the enclosing parts, innermost last
	lastPart  int
}

// parts are the elements within which an explanation counts as given on
// the spot.
var parts = map[atom.Atom]bool{
	atom.Li: true, atom.Dd: true, atom.Td: true, atom.Th: true, atom.Section: true, atom.Article: true, atom.Aside: true,
	atom.Fieldset: true, atom.Details: true, atom.Figure: true,
}

type span struct{ start, end int }

// blocks are the elements whose start and end end a sentence.
var blocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true, atom.Body: true, atom.Br: true,
	atom.Button: true, atom.Caption: true, atom.Dd: true, atom.Details: true, atom.Dialog: true, atom.Div: true,
	atom.Dl: true, atom.Dt: true, atom.Fieldset: true, atom.Figcaption: true, atom.Figure: true, atom.Footer: true,
	atom.Form: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Header: true, atom.Hr: true, atom.Label: true, atom.Legend: true, atom.Li: true, atom.Main: true, atom.Nav: true,
	atom.Ol: true, atom.Option: true, atom.P: true, atom.Pre: true, atom.Section: true, atom.Select: true,
	atom.Summary: true, atom.Table: true, atom.Td: true, atom.Th: true, atom.Title: true, atom.Tr: true, atom.Ul: true,
}

// skipped elements hold nothing a screen reader reads as text.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Template: true, atom.Noscript: true,
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hidden(n *html.Node) bool {
	if _, ok := attr(n, "hidden"); ok {
		return true
	}
	v, _ := attr(n, "aria-hidden")
	return v == "true"
}

func (rd *reader) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if rd.inLines == 0 {
			rd.block.WriteString(n.Data)
			return
		}
		for i, line := range strings.Split(n.Data, "\n") {
			if i > 0 {
				rd.flush()
			}
			rd.block.WriteString(line)
		}
		return
	case html.ElementNode:
	default:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rd.walk(c)
		}
		return
	}
	if skipped[n.DataAtom] || hidden(n) {
		return
	}
	if n.DataAtom == atom.Head {
		// Only the title of the head is read (as the page's name).
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.DataAtom == atom.Title {
				rd.walk(c)
			}
		}
		return
	}
	if _, ok := attr(n, "data-refusal"); ok {
		rd.refusals = append(rd.refusals, readRefusal(n))
	}
	if rd.keepsLines(n) {
		rd.inLines++
		defer func() { rd.inLines-- }()
	}
	block := blocks[n.DataAtom]
	if block {
		rd.flush()
	}
	_, refusal := attr(n, "data-refusal")
	part := parts[n.DataAtom] || partRoles[role(n)] || refusal
	if part {
		rd.lastPart++
		rd.parts = append(rd.parts, rd.lastPart)
	}
	defer func() {
		if block {
			rd.flush()
		}
		if part {
			rd.parts = rd.parts[:len(rd.parts)-1]
		}
	}()
	switch n.DataAtom {
	case atom.Img, atom.Area:
		alt, _ := attr(n, "alt")
		rd.block.WriteString(" " + alt + " ")
		return
	case atom.Input:
		typ, _ := attr(n, "type")
		if typ == "submit" || typ == "button" || typ == "reset" {
			v, _ := attr(n, "value")
			rd.flush()
			rd.block.WriteString(v)
			rd.flush()
		}
		return
	case atom.A, atom.Button:
		if label, ok := attr(n, "aria-label"); ok && strings.TrimSpace(label) != "" {
			rd.block.WriteString(" " + label + " ")
			return
		}
	}
	if n.DataAtom == atom.Dfn {
		start := rd.block.Len()
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rd.walk(c)
		}
		rd.dfns = append(rd.dfns, span{start, rd.block.Len()})
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		rd.walk(c)
	}
}

func (rd *reader) keepsLines(n *html.Node) bool {
	if n.DataAtom == atom.Pre {
		return true
	}
	class, _ := attr(n, "class")
	for _, c := range rd.lines {
		if hasClass(class, c) {
			return true
		}
	}
	return false
}

// partRoles make an element a part whatever its tag: a note, an alert,
// a status message or a group is read as one whole.
var partRoles = map[string]bool{"note": true, "alert": true, "status": true, "group": true, "region": true}

func role(n *html.Node) string {
	r, _ := attr(n, "role")
	return strings.TrimSpace(r)
}

// flush cuts the current block into sentences.
func (rd *reader) flush() {
	text := rd.block.String()
	dfns := rd.dfns
	rd.block.Reset()
	rd.dfns = nil
	for _, s := range cut(text) {
		words := CountWords(s.text)
		if words == 0 {
			continue
		}
		sentence := Sentence{Text: oneLine(s.text), Words: words}
		if len(rd.parts) > 0 {
			sentence.Part = rd.parts[len(rd.parts)-1]
		}
		for _, d := range dfns {
			if d.start >= s.start && d.end <= s.end {
				sentence.Defined = append(sentence.Defined, strings.ToLower(oneLine(text[d.start:d.end])))
			}
		}
		rd.sentences = append(rd.sentences, sentence)
	}
}

// oneLine folds every run of spaces (the no-break space included) into
// one plain space.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// CountWords counts the words of s as the package comment defines them.
func CountWords(s string) int {
	n := 0
	for _, f := range strings.FieldsFunc(s, unicode.IsSpace) {
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 {
			n++
		}
	}
	return n
}

func readRefusal(n *html.Node) Refusal {
	var text strings.Builder
	next := false
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data + " ")
			return
		}
		if n.Type == html.ElementNode {
			if skipped[n.DataAtom] || hidden(n) {
				return
			}
			switch n.DataAtom {
			case atom.A:
				if href, ok := attr(n, "href"); ok && strings.TrimSpace(href) != "" {
					next = true
				}
			case atom.Button:
				next = true
			case atom.Input:
				if typ, _ := attr(n, "type"); typ == "submit" || typ == "button" {
					next = true
				}
			}
			if class, _ := attr(n, "class"); hasClass(class, "next-step") && CountWords(textOf(n)) > 0 {
				next = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return Refusal{Text: oneLine(text.String()), NextStep: next}
}

func hasClass(list, class string) bool {
	for _, c := range strings.Fields(list) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && (skipped[n.DataAtom] || hidden(n)) {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return b.String()
}
