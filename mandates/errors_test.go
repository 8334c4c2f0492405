package mandates

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestInvalidErrorIsErrInvalidAndReadsByField(t *testing.T) {
	tests := []struct {
		name string
		err  *InvalidError
		says string
	}{
		{"a missing field", &InvalidError{Field: "valid_from", Rule: RuleRequired}, "valid_from is missing"},
		{"a text over its limit says the limit", &InvalidError{Field: "reason", Rule: RuleTooLong, Limit: 500}, "reason is longer than 500 bytes"},
		{"a term past the law says its years", &InvalidError{Field: "valid_until", Rule: RuleMaxYears, Limit: 10}, "valid_until is more than 10 years after the start"},
		{"an item of a list says its position", &InvalidError{Field: "role", Rule: RuleUnknown, Index: 2}, "role 2 is not a known value"},
		{"an end before the start", &InvalidError{Field: "valid_until", Rule: RuleAfter}, "valid_until must be after the start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("register measure: %w", tt.err)
			var inv *InvalidError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &inv) || *inv != *tt.err {
				t.Fatalf("%v: not an ErrInvalid carrying %+v", err, tt.err)
			}
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrAlreadyExists) {
				t.Errorf("%v matches a second sentinel", err)
			}
			if got := inv.Message(); !strings.HasPrefix(got, tt.says) {
				t.Errorf("Message() = %q, want it to start with %q", got, tt.says)
			}
		})
	}
}

func TestCheckTextRefusesBlankBadAndLongText(t *testing.T) {
	tests := []struct {
		name     string
		v        string
		required bool
		want     *InvalidError // nil: accepted
	}{
		{"a text at the limit is accepted", strings.Repeat("é", 5), true, nil},
		{"an empty optional text is accepted", "", false, nil},
		{"a blank required text is missing", "  ", true, &InvalidError{Field: "f", Rule: RuleRequired}},
		{"a text one byte over is too long", strings.Repeat("a", 11), false, &InvalidError{Field: "f", Rule: RuleTooLong, Limit: 10}},
		{"a text that is not UTF-8 is malformed", "a\xff", false, &InvalidError{Field: "f", Rule: RuleFormat}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkText("f", tt.v, 10, tt.required)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("checkText = %v, want nil", err)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) || *inv != *tt.want {
				t.Errorf("checkText = %v, want %+v", err, tt.want)
			}
		})
	}
}
