package ui

import (
	"reflect"
	"testing"
)

func TestUnknownMemberNamesTheFieldTheBodyShouldNotHave(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"a body of known fields has none", `{"kind":"tutelle","decision":{"reference":"RG 1"},"representatives":[{"role":"tuteur"}]}`, ""},
		{"names match without regard to case, as encoding/json reads them", `{"Kind":"tutelle","DECISION":{"Reference":"RG 1"}}`, ""},
		{"an unknown field at the top", `{"kind":"tutelle","colour":"blue"}`, "colour"},
		{"an unknown field in a nested object", `{"decision":{"reference":"RG 1","judge":"X"}}`, "judge"},
		{"an unknown field in an object of a list", `{"representatives":[{"role":"tuteur"},{"role":"curateur","salary":1}]}`, "salary"},
		{"a body that is not JSON names nothing", `{"kind":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unknownMember([]byte(tt.body), reflect.TypeOf(&apiMeasureBody{})); got != tt.want {
				t.Errorf("unknownMember = %q, want %q", got, tt.want)
			}
		})
	}
}
