package pgtest

import (
	"strings"
	"testing"
)

func TestDatabaseName(t *testing.T) {
	for _, hint := range []string{
		"TestFoo",
		"TestFoo/Sub_Test#01",
		"Test" + strings.Repeat("VeryLong/", 20),
		"///",
		"Tést Ünicode",
	} {
		name := databaseName(hint)
		if len(name) > maxNameLen {
			t.Errorf("%q → %q: %d bytes, want ≤ %d", hint, name, len(name), maxNameLen)
		}
		if !strings.HasPrefix(name, namePrefix) {
			t.Errorf("%q → %q: want prefix %s", hint, name, namePrefix)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Errorf("%q → %q: character %q", hint, name, r)
			}
		}
		if strings.Contains(name, "__") {
			t.Errorf("%q → %q: double underscore", hint, name)
		}
		if databaseName(hint) == name {
			t.Errorf("%q: two calls gave the same name %q", hint, name)
		}
	}
	if got := databaseName("TestFoo/Sub_Test#01"); !strings.HasPrefix(got, "pgtest_testfoo_sub_test_01_") {
		t.Errorf("got %q", got)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:p@h:5433/old?sslmode=disable", "postgres://u:p@h:5433/new?sslmode=disable"},
		{"postgresql://u@h", "postgresql://u@h/new"},
		{"host=h user=u dbname=old", "host=h user=u dbname=old dbname='new'"},
	} {
		if got := withDatabase(tc.in, "new"); got != tc.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
