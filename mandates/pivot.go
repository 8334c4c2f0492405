package mandates

import (
	"context"
	"strings"
	"unicode"
)

// PivotKey is the person's identité pivot (given names, family name, birth
// date, birth place, birth country, gender) in the one form two records are
// compared in, as FranceConnect compares them: letters without accents and
// in lower case, any run of other characters (hyphens, apostrophes, spaces)
// as one space, given names kept in their order. A birth place in France
// implies the birth country 99100. It is empty when the names or the birth
// date are missing: such a record matches nobody.
//
// Two persons may share a key: homonyms registered on purpose after a check
// at a desk, or records older than the check. A match is only ever used when
// it is the only one.
func PivotKey(p Person) string {
	given, family := pivotName(p.GivenNames), pivotName(p.FamilyName)
	if given == "" || family == "" || p.BirthDate.IsZero() {
		return ""
	}
	country := strings.TrimSpace(p.BirthCountry)
	place := strings.ToUpper(strings.TrimSpace(p.BirthPlace.Code))
	if country == "" && place != "" {
		country = FranceCountryCode
	}
	return strings.Join([]string{given, family, p.BirthDate.Format("2006-01-02"), place, country, string(p.Gender)}, "|")
}

// FranceCountryCode is France's code in the INSEE list of countries, the
// birth country FranceConnect gives a person born in France.
const FranceCountryCode = "99100"

// PivotStore finds persons by their identité pivot.
type PivotStore interface {
	// PersonsByPivot returns every person whose PivotKey is key, in id
	// order; none for an empty key.
	PersonsByPivot(ctx context.Context, key string) ([]Person, error)
}

// checkPivotNames refuses names without a letter or a digit (« - »,
// « . »): PivotKey would be empty, and the person could be matched with
// nobody, or, in one import, taken for another such line's person.
func checkPivotNames(p Person) error {
	switch {
	case pivotName(p.GivenNames) == "":
		return invalid("given_names", RuleFormat)
	case pivotName(p.FamilyName) == "":
		return invalid("family_name", RuleFormat)
	}
	return nil
}

// pivotName folds a name as PivotKey compares it.
func pivotName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		folded, ok := foldLetter(r)
		if !ok {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(folded)
	}
	return b.String()
}

// foldLetter maps a lower-case letter to its form without accents; ok is
// false for anything that is not a letter or a digit.
func foldLetter(r rune) (string, bool) {
	if r < 0x80 {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return string(r), true
		}
		return "", false
	}
	for base, accented := range accentedLetters {
		if strings.ContainsRune(accented, r) {
			return base, true
		}
	}
	if unicode.IsLetter(r) {
		return string(r), true
	}
	return "", false
}

// accentedLetters are the letters with diacritics of French and its
// neighbours' civil registers, by the letters they fold to.
var accentedLetters = map[string]string{
	"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ďđ", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
	"i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ", "l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏő",
	"r": "ŕŗř", "s": "śŝşšș", "t": "ţťŧț", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	"ae": "æ", "oe": "œ", "ss": "ß",
}
