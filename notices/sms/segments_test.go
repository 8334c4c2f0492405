package sms

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestSegments counts the parts a phone receives: 160 characters of the
// GSM 7-bit alphabet in one text (153 a part when joined), a character of
// its extension table counting two; 70 UCS-2 units when any character is
// outside it (67 a part), a character outside the basic plane counting two
// and never cut.
func TestSegments(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name string
		text string
		want int
	}{
		{"nothing", "", 0},
		{"160 plain letters", r("a", 160), 1},
		{"161 plain letters", r("a", 161), 2},
		{"two full parts", r("a", 306), 2},
		{"one more", r("a", 307), 3},
		{"é, è, à and ù are in the GSM alphabet", r("éèàù", 40), 1},
		{"plain quotes and apostrophes are too", r(`l'"a"`, 32), 1},
		{"€ counts two", r("€", 80), 1},
		{"81 € are 162 septets", r("€", 81), 2},
		{"an escape pair is never cut", r("a", 152) + "€" + r("a", 153), 3},
		{"ê is not in the GSM alphabet", r("ê", 70), 1},
		{"71 UCS-2 characters", r("ê", 71), 2},
		{"two full UCS-2 parts", r("ê", 134), 2},
		{"one more UCS-2", r("ê", 135), 3},
		{"a typographic apostrophe makes the whole text UCS-2", r("a", 100) + "’", 2},
		{"so do French quotes", "« Mon espace »" + r("a", 56), 1},
		{"« and 70 letters", "«" + r("a", 70), 2},
		{"a character outside the basic plane counts two", r("😀", 35), 1},
		{"and is never cut", r("😀", 36), 2},
		{"a surrogate pair at a part's end moves on", r("a", 66) + "😀" + r("a", 66), 3},
	}
	for _, tt := range tests {
		if got := Segments(tt.text); got != tt.want {
			t.Errorf("%s: Segments = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestSendRefusesATextOfMoreParts: the limit is in parts: three by
// default, so a text of 160 UCS-2 characters goes (three parts) and one of
// 202 (four parts) does not; a limit of one part refuses 71.
func TestSendRefusesATextOfMoreParts(t *testing.T) {
	for _, tt := range []struct {
		name  string
		limit int
		text  string
		ok    bool
	}{
		{"three UCS-2 parts by default", 0, strings.Repeat("ê", 201), true},
		{"four UCS-2 parts", 0, strings.Repeat("ê", 202), false},
		{"three GSM parts", 0, strings.Repeat("e", 459), true},
		{"four GSM parts", 0, strings.Repeat("e", 460), false},
		{"one part allowed, 70 UCS-2", 1, strings.Repeat("ê", 70), true},
		{"one part allowed, 71 UCS-2", 1, strings.Repeat("ê", 71), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := &taken{}
			s, err := New(g, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			m := notice()
			m.Short = tt.text
			err = s.Send(t.Context(), m)
			limit := tt.limit
			if limit == 0 {
				limit = DefaultSegments
			}
			var tl *TooLongError
			switch {
			case tt.ok && (err != nil || len(*g) != 1):
				t.Errorf("Send = %v, want it sent", err)
			case !tt.ok && (!errors.As(err, &tl) || !errors.Is(err, ErrTooLong) || tl.Length != Segments(tt.text) || tl.Limit != limit || len(*g) != 0):
				t.Errorf("Send = %v, want a *TooLongError in parts", err)
			}
		})
	}
}

// taken is a Gateway that takes every text.
type taken []Text

func (g *taken) Send(_ context.Context, t Text) error {
	*g = append(*g, t)
	return nil
}
