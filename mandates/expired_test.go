package mandates

import (
	"errors"
	"testing"
)

func TestExpiredKindsAreValidAndDistinct(t *testing.T) {
	seen := map[ExpiredKind]bool{}
	for _, k := range ExpiredKinds() {
		if !k.Valid() || seen[k] {
			t.Errorf("kind %q: valid %v, listed twice %v", k, k.Valid(), seen[k])
		}
		seen[k] = true
	}
	if len(seen) != 13 {
		t.Errorf("%d kinds, want the 13 the cleanup deletes", len(seen))
	}
}

func TestCheckExpiredRequest(t *testing.T) {
	tests := []struct {
		name  string
		kind  ExpiredKind
		limit int
		field string // "" when accepted
	}{
		{"a known kind and a limit of one is accepted", ExpiredSessions, 1, ""},
		{"a table that is never cleaned is no kind", "journal_entries", 10, "kind"},
		{"an empty kind is refused", "", 10, "kind"},
		{"a limit of zero would delete nothing", ExpiredCodes, 0, "limit"},
		{"a negative limit is refused", ExpiredCodes, -5, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckExpiredRequest(tt.kind, tt.limit)
			var ie *InvalidError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.field != "" && (!errors.As(err, &ie) || ie.Field != tt.field):
				t.Errorf("got %v, want an InvalidError on %s", err, tt.field)
			}
		})
	}
}
