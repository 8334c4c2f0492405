package letter

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/relais-fr/relais/mandates"
)

// The French postal standard (La Poste, NF Z 10-011): an address block has
// at most 6 lines of at most 38 characters, spaces included.
const (
	MaxAddressLines = 6
	MaxLineChars    = 38
)

// ErrAddress matches every *AddressError: the address cannot be printed in
// the French postal format, so the letter cannot be sent until someone
// corrects it.
var ErrAddress = errors.New("letter: the address does not fit the French postal format")

// AddressRule names the rule of the postal format an address breaks.
type AddressRule string

const (
	RuleMissing AddressRule = "missing"        // Field is empty: the name, a street line, the postal code or the commune
	RuleFormat  AddressRule = "format"         // a French postal code that is not 5 digits
	RuleTooLong AddressRule = "too_long"       // line Line has more than Limit characters
	RuleTooMany AddressRule = "too_many_lines" // the block needs more than Limit lines
	RuleTooWide AddressRule = "too_wide"       // line Line is wider than the envelope's window, Limit mm, even in the smallest type
)

// AddressError says why an address cannot be printed: which field or line
// breaks which rule, and the rule's limit. Callers read it with errors.As;
// it matches ErrAddress with errors.Is.
type AddressError struct {
	Field string // "name", "street", "postal_code", "locality", "country"
	Rule  AddressRule
	Limit int // characters for RuleTooLong, lines for RuleTooMany, mm for RuleTooWide
	Line  int // the line of the block, from 1, for RuleTooLong and RuleTooWide
}

func (e *AddressError) Error() string {
	s := "letter: address " + e.Field + " " + string(e.Rule)
	if e.Line > 0 {
		s += " (line " + strconv.Itoa(e.Line) + ")"
	}
	if e.Limit > 0 {
		s += " (limit " + strconv.Itoa(e.Limit) + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrAddress) true for an *AddressError.
func (e *AddressError) Is(target error) bool { return target == ErrAddress }

// AddressBlock writes the recipient's name and address as the lines of a
// French address block, in the standard's order: the name; the
// complements (flat, staircase, building, residence); the number and
// street; the lieu-dit or distribution service (BP, CS, TSA); the postal
// code and commune in capitals without accents, as La Poste's sorting
// machines read them; the country only when it is not France.
//
// mandates.Address keeps the street part as lines the person typed, so
// each line is placed by what it starts with: complements first, service
// lines after the street, the others in the order given.
func AddressBlock(name string, a mandates.Address) ([]string, error) {
	b, err := addressBlock(name, a)
	return b.lines, err
}

// block is an address block and what a later check needs to name the
// field of a line: whether the address is in France (no country line),
// and how many lines the name takes.
type block struct {
	lines  []string
	france bool
	names  int
}

// field names the field the block's i-th line comes from.
func (b block) field(i int) string {
	if i < b.names {
		return "name"
	}
	return fieldOfLine(i-b.names, len(b.lines)-b.names, b.france)
}

func addressBlock(name string, a mandates.Address) (block, error) {
	name = squeeze(name)
	if name == "" {
		return block{}, &AddressError{Field: "name", Rule: RuleMissing}
	}
	var complements, streets, services []string
	for l := range strings.SplitSeq(a.Street, "\n") {
		l = squeeze(l)
		switch {
		case l == "":
		case hasWordPrefix(l, complementWords()):
			complements = append(complements, l)
		case hasWordPrefix(l, serviceWords()):
			services = append(services, l)
		default:
			streets = append(streets, l)
		}
	}
	if len(streets)+len(services) == 0 {
		return block{}, &AddressError{Field: "street", Rule: RuleMissing}
	}
	code := squeeze(a.PostalCode)
	if code == "" {
		return block{}, &AddressError{Field: "postal_code", Rule: RuleMissing}
	}
	locality := capitals(a.Locality)
	if locality == "" {
		return block{}, &AddressError{Field: "locality", Rule: RuleMissing}
	}
	france := isFrance(a.Country)
	if france {
		code = strings.ReplaceAll(code, " ", "")
		if len(code) != 5 || strings.IndexFunc(code, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return block{}, &AddressError{Field: "postal_code", Rule: RuleFormat}
		}
	}
	lines, err := nameLines(name)
	if err != nil {
		return block{}, err
	}
	names := len(lines)
	lines = append(lines, complements...)
	lines = append(lines, streets...)
	lines = append(lines, services...)
	lines = append(lines, code+" "+locality)
	if !france {
		lines = append(lines, capitals(a.Country))
	}
	for i, l := range lines[names:] {
		if utf8.RuneCountInString(l) > MaxLineChars {
			return block{}, &AddressError{Field: fieldOfLine(i, len(lines)-names, france), Rule: RuleTooLong, Limit: MaxLineChars, Line: names + i + 1}
		}
	}
	if len(lines) > MaxAddressLines {
		return block{}, &AddressError{Field: "street", Rule: RuleTooMany, Limit: MaxAddressLines}
	}
	return block{lines: lines, france: france, names: names}, nil
}

// nameLines is the recipient's name as the block's first line, or its
// first two when it is longer than a line (a long family name, an
// organisation's name): cut between words, as much as fits on the first.
// A word longer than a line, or a name too long for two lines, is
// refused: the operator must write it shorter.
func nameLines(name string) ([]string, error) {
	if utf8.RuneCountInString(name) <= MaxLineChars {
		return []string{name}, nil
	}
	var first, rest []string
	width := 0
	for _, w := range strings.Fields(name) {
		n := utf8.RuneCountInString(w)
		if n > MaxLineChars {
			return nil, &AddressError{Field: "name", Rule: RuleTooLong, Limit: MaxLineChars, Line: 1}
		}
		if rest == nil && (width == 0 || width+1+n <= MaxLineChars) {
			first = append(first, w)
			width += min(width, 1) + n
			continue
		}
		rest = append(rest, w)
	}
	second := strings.Join(rest, " ")
	if utf8.RuneCountInString(second) > MaxLineChars {
		return nil, &AddressError{Field: "name", Rule: RuleTooLong, Limit: MaxLineChars, Line: 2}
	}
	return []string{strings.Join(first, " "), second}, nil
}

// fieldOfLine names the field the i-th line after the name comes from,
// of n such lines.
func fieldOfLine(i, n int, france bool) string {
	switch {
	case !france && i == n-1:
		return "country"
	case france && i == n-1, !france && i == n-2:
		return "locality"
	}
	return "street"
}

// complementWords and serviceWords are the words a line starts with,
// lower case and without accents: complements of the delivery point come
// before the street line, distribution services after it (NF Z 10-011,
// lines 2-3 and 5).
func complementWords() []string {
	return []string{"appartement", "appt", "apt", "app", "etage", "escalier", "esc", "bat", "batiment", "residence", "res", "immeuble", "imm", "entree", "tour", "chez", "c/o", "boite", "porte", "couloir", "logement", "chambre"}
}

func serviceWords() []string {
	return []string{"bp", "b.p.", "cs", "tsa", "lieu-dit", "lieu dit", "poste restante", "cedex"}
}

func hasWordPrefix(line string, words []string) bool {
	l := strings.ToLower(unaccent(line))
	for _, w := range words {
		if rest, ok := strings.CutPrefix(l, w); ok && (rest == "" || !unicode.IsLetter([]rune(rest)[0])) {
			return true
		}
	}
	return false
}

func isFrance(country string) bool {
	switch strings.ToUpper(unaccent(squeeze(country))) {
	case "", "FRANCE", "FR", "FRA":
		return true
	}
	return false
}

// capitals writes s in capitals without accents, as the last lines of a
// French address block are printed.
func capitals(s string) string {
	s = strings.ToUpper(unaccent(squeeze(s)))
	return strings.NewReplacer("Œ", "OE", "Æ", "AE").Replace(s)
}

func unaccent(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// squeeze trims s and folds every run of spaces, tabs or line breaks
// into one space.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }
