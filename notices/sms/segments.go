package sms

import "strings"

// gsmBasic is the GSM 7-bit default alphabet (3GPP TS 23.038), but the
// escape to its extension table: one septet each.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is its extension table: two septets each (the escape and
// the character).
const gsmExtension = "\f^{}\\[]~|€"

// The sizes of a text: one part alone, or each part of a joined text
// (the rest carries the header that joins them), in septets for GSM 7-bit
// and in UTF-16 units for UCS-2.
const (
	gsmOne, gsmPart   = 160, 153
	ucs2One, ucs2Part = 70, 67
)

// Segments is how many parts a phone receives for text: the GSM 7-bit
// alphabet when every character is in it (160 septets in one part, 153 in
// each of several, a character of the extension table counting two),
// otherwise UCS-2 (70 units in one part, 67 in each of several, a
// character outside the basic plane counting two). A character is never
// cut between two parts. French typography's ’, « » and letters such as
// ê, â, ô, ç are outside the GSM alphabet: one of them makes the whole
// text UCS-2.
func Segments(text string) int {
	if text == "" {
		return 0
	}
	gsm := true
	for _, r := range text {
		if !strings.ContainsRune(gsmBasic, r) && !strings.ContainsRune(gsmExtension, r) {
			gsm = false
			break
		}
	}
	one, part := ucs2One, ucs2Part
	if gsm {
		one, part = gsmOne, gsmPart
	}
	size := func(r rune) int {
		switch {
		case gsm && strings.ContainsRune(gsmExtension, r), !gsm && r > 0xFFFF:
			return 2
		}
		return 1
	}
	total := 0
	for _, r := range text {
		total += size(r)
	}
	if total <= one {
		return 1
	}
	n, used := 1, 0
	for _, r := range text {
		if used+size(r) > part {
			n, used = n+1, 0
		}
		used += size(r)
	}
	return n
}
