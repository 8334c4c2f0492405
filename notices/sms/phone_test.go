package sms

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a mobile number written in pairs", "06 12 34 56 78", "+33612345678"},
		{"a 07 number with dots", "07.58.12.34.56", "+33758123456"},
		{"with dashes", "06-12-34-56-78", "+33612345678"},
		{"already in E.164", "+33612345678", "+33612345678"},
		{"+33 with spaces", "+33 6 12 34 56 78", "+33612345678"},
		{"+33 with the trunk zero in brackets", "+33 (0)6 12 34 56 78", "+33612345678"},
		{"0033", "0033 6 12 34 56 78", "+33612345678"},
		{"a Réunion mobile number written the national way", "0692 12 34 56", "+262692123456"},
		{"a Guadeloupe mobile number in E.164", "+590 690 12 34 56", "+590690123456"},
		{"a Martinique mobile number written with +33", "+33 6 96 12 34 56", "+596696123456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	tests := []struct {
		name, in string
		want     PhoneRule
	}{
		{"no number", "  ", RuleMissing},
		{"a landline in Paris", "01 42 34 56 78", RuleNotMobile},
		{"a landline written +33", "+33 2 40 41 42 43", RuleNotMobile},
		{"a service number", "08 00 12 34 56", RuleNotMobile},
		{"a box's number", "09 87 65 43 21", RuleNotMobile},
		{"a Réunion landline under +262", "+262 262 12 34 56", RuleNotMobile},
		{"too few digits", "06 12 34 56", RuleFormat},
		{"too many digits", "06 12 34 56 78 9", RuleFormat},
		{"letters", "06 12 AB 56 78", RuleFormat},
		{"an email address", "jeanne@example.org", RuleFormat},
		{"a plus sign in the middle", "06+12345678", RuleFormat},
		{"a British mobile number", "+44 7700 900123", RuleCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			var pe *PhoneError
			if !errors.As(err, &pe) || pe.Rule != tt.want || !errors.Is(err, ErrPhone) {
				t.Errorf("Normalize(%q) = %q, %v; want a PhoneError %s", tt.in, got, err, tt.want)
			}
		})
	}
}
