package mandates

import (
	"strconv"
	"testing"
	"time"
)

func TestNewIDIsAVersion7UUIDOrderedByTime(t *testing.T) {
	t1 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	a, b := NewID(t1), NewID(t1.Add(time.Millisecond))
	for _, id := range []string{a, b} {
		if !IsID(id) {
			t.Fatalf("%q is not a canonical UUID", id)
		}
		if id[14] != '7' {
			t.Errorf("%q: version nibble %c, want 7", id, id[14])
		}
		if v := id[19]; v != '8' && v != '9' && v != 'a' && v != 'b' {
			t.Errorf("%q: variant nibble %c, want 8, 9, a or b", id, v)
		}
	}
	if !(a < b) {
		t.Errorf("ids do not sort by time: %s !< %s", a, b)
	}
	// The first 48 bits are the Unix time in milliseconds (RFC 9562 §5.7).
	ms, err := strconv.ParseInt(a[:8]+a[9:13], 16, 64)
	if err != nil || ms != t1.UnixMilli() {
		t.Errorf("timestamp %d (%v), want %d", ms, err, t1.UnixMilli())
	}
	if NewID(t1) == NewID(t1) {
		t.Error("two ids for the same millisecond are equal")
	}
}

func TestIsID(t *testing.T) {
	for s, want := range map[string]bool{
		"0193a000-0000-7000-8000-000000000001":  true,
		"0193A000-0000-7000-8000-000000000001":  false, // canonical form is lower case
		"0193a000000070008000000000000001":      false,
		"0193a000-0000-7000-8000-00000000000g":  false,
		"":                                      false,
		"0193a000-0000-7000-8000-0000000000011": false,
	} {
		if IsID(s) != want {
			t.Errorf("IsID(%q) = %v, want %v", s, !want, want)
		}
	}
}
