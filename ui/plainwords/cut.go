package plainwords

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// abbreviations never end a sentence, whatever follows them (lower case,
// without their dot).
var abbreviations = map[string]bool{
	"m": true, "mm": true, "mme": true, "mmes": true, "mlle": true, "dr": true, "me": true, "st": true, "ste": true,
	"n°": true, "no": true, "art": true, "av": true, "bd": true, "tél": true, "p": true, "ex": true, "env": true,
	"mr": true, "mrs": true, "ms": true, "e.g": true, "i.e": true,
}

// closers stay with the sentence they close.
const closers = "»”’\")]"

type piece struct {
	text       string
	start, end int // byte offsets in the block
}

// cut splits the text of one block into sentences, as the package
// comment says.
func cut(text string) []piece {
	var out []piece
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !strings.ContainsRune(".!?…", r) {
			i += size
			continue
		}
		end := i + size
		// More terminators (« ?! », « ... ») belong to the same end.
		for end < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[end:])
			if !strings.ContainsRune(".!?…", r2) {
				break
			}
			end += s2
		}
		// Closing quotes and brackets, possibly after a (no-break) space.
		j := end
		for j < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if unicode.IsSpace(r2) {
				k := j + s2
				for k < len(text) {
					r3, s3 := utf8.DecodeRuneInString(text[k:])
					if !unicode.IsSpace(r3) {
						break
					}
					k += s3
				}
				if k < len(text) {
					if r3, _ := utf8.DecodeRuneInString(text[k:]); strings.ContainsRune(closers, r3) {
						j = k
						continue
					}
				}
				break
			}
			if !strings.ContainsRune(closers, r2) {
				break
			}
			j += s2
			end = j
		}
		if !ends(text, i, end) {
			i = end
			continue
		}
		out = append(out, piece{text: text[start:end], start: start, end: end})
		start = end
		i = end
	}
	if strings.TrimSpace(text[start:]) != "" {
		out = append(out, piece{text: text[start:], start: start, end: len(text)})
	}
	return out
}

// ends tells whether the terminator at text[at] (its run and closers
// ending at end) ends a sentence.
func ends(text string, at, end int) bool {
	if end == len(text) {
		return true
	}
	// A space must follow: « 1.5 », « export.json » and « 2026.1 » do not end.
	r, _ := utf8.DecodeRuneInString(text[end:])
	if !unicode.IsSpace(r) {
		return false
	}
	rest := strings.TrimLeftFunc(text[end:], unicode.IsSpace)
	if rest == "" {
		return true
	}
	if next, _ := utf8.DecodeRuneInString(rest); unicode.IsLower(next) {
		return false
	}
	if text[at] != '.' {
		return true
	}
	// The word before a dot: an abbreviation does not end a sentence.
	before := text[:at]
	w := before[strings.LastIndexFunc(before, unicode.IsSpace)+1:]
	w = strings.TrimLeft(w, "(«“\"‘'")
	return !abbreviations[strings.ToLower(w)]
}
