package sms

import (
	"errors"
	"strings"
)

// ErrPhone matches every *PhoneError.
var ErrPhone = errors.New("sms: not a mobile number one can text")

// PhoneRule names why a number cannot receive a text.
type PhoneRule string

const (
	RuleMissing   PhoneRule = "missing"    // no number
	RuleFormat    PhoneRule = "format"     // not a phone number: letters, too few or too many digits
	RuleNotMobile PhoneRule = "not_mobile" // a French number that is not a mobile one (a landline, 08…, 09…)
	RuleCountry   PhoneRule = "country"    // a number outside France and its overseas departments
)

// PhoneError says why a number cannot receive a text, so a form can say
// it next to the field and the outbox can show it to operators.
type PhoneError struct{ Rule PhoneRule }

func (e *PhoneError) Error() string        { return "sms: phone number " + string(e.Rule) }
func (e *PhoneError) Is(target error) bool { return target == ErrPhone }

// Normalize writes a French mobile number in E.164 ("+33612345678") from
// the ways people write it: "06 12 34 56 78", "06.12.34.56.78",
// "+33 6 12 34 56 78", "+33 (0)6 12 34 56 78", "0033 6 12 34 56 78".
// Mobile numbers of the overseas departments (0690… Guadeloupe, 0692…
// La Réunion…) get their own country code, as operators route them.
func Normalize(phone string) (string, error) {
	s := strings.TrimSpace(phone)
	if s == "" {
		return "", &PhoneError{Rule: RuleMissing}
	}
	s = strings.Replace(s, "(0)", "", 1)
	var digits strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
			digits.WriteString("00")
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", &PhoneError{Rule: RuleFormat}
		}
	}
	d := digits.String()
	var national string // the 9 digits after the trunk 0
	switch {
	case strings.HasPrefix(d, "00"):
		international := d[2:]
		for _, cc := range []string{"33", "262", "590", "594", "596"} {
			if rest, ok := strings.CutPrefix(international, cc); ok && len(rest) == 9 {
				national = rest
				if cc != "33" && countryCode(national) != cc {
					return "", &PhoneError{Rule: RuleNotMobile}
				}
				break
			}
		}
		if national == "" {
			if len(international) < 8 || len(international) > 15 {
				return "", &PhoneError{Rule: RuleFormat}
			}
			return "", &PhoneError{Rule: RuleCountry}
		}
	case strings.HasPrefix(d, "0") && len(d) == 10:
		national = d[1:]
	default:
		return "", &PhoneError{Rule: RuleFormat}
	}
	if national[0] != '6' && national[0] != '7' {
		return "", &PhoneError{Rule: RuleNotMobile}
	}
	return "+" + countryCode(national) + national, nil
}

// countryCode is the country code of a French mobile number's 9 national
// digits: the overseas departments' mobile ranges have their own (ARCEP's
// numbering plan), the rest is +33.
func countryCode(national string) string {
	switch national[:3] {
	case "690", "691":
		return "590" // Guadeloupe, Saint-Martin, Saint-Barthélemy
	case "694":
		return "594" // Guyane
	case "696", "697":
		return "596" // Martinique
	case "692", "693", "639":
		return "262" // La Réunion, Mayotte
	}
	return "33"
}
