package jsoncol

import "testing"

func TestArray(t *testing.T) {
	type pair struct {
		A string `json:"a"`
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"a nil list is an empty array, never null", Array[string](nil), `[]`},
		{"an empty list is an empty array", Array([]string{}), `[]`},
		{"strings keep their order", Array([]string{"social", "argent"}), `["social","argent"]`},
		{"string-only structs are objects", Array([]pair{{"x"}}), `[{"a":"x"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}
