package ui

import (
	"net/url"
	"strings"
	"testing"
)

func TestLocalPathKeepsEveryRedirectOnThisSite(t *testing.T) {
	tests := []struct {
		name, next, want string
	}{
		{"a path with its query stays", "/espace/journal?page=2", "/espace/journal?page=2"},
		{"an authorization request stays", "/authorize?client_id=caf&state=x", "/authorize?client_id=caf&state=x"},
		{"an encoded slash stays a path here", "/%2F%2Fevil.example", "/%2F%2Fevil.example"},
		{"empty goes home", "", "/"},
		{"another host", "//evil.example/", "/"},
		{"a backslash read as a slash", "/\\evil.example", "/"},
		{"a backslash further on", "/a\\b", "/"},
		{"an absolute URL", "https://evil.example/", "/"},
		{"a scheme without slashes", "javascript:alert(1)", "/"},
		{"a relative path", "evil.example", "/"},
		{"a tab browsers drop", "/\t/evil.example", "/"},
		{"a line feed browsers drop", "/\n/evil.example", "/"},
		{"a carriage return browsers drop", "/\r/evil.example", "/"},
		{"a delete character", "/x\x7f", "/"},
		{"a user part", "//user@evil.example", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := localPath(tt.next); got != tt.want {
				t.Errorf("localPath(%q) = %q, want %q", tt.next, got, tt.want)
			}
		})
	}
}

// FuzzLocalPath: whatever a link carries, the target a browser would
// follow stays on this site. The browser's reading is imitated as WHATWG
// URL does it: tabs and line breaks dropped, backslashes read as slashes.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/espace", "//evil.example", "/\t/evil.example", "/\\evil", "https://x", "/a?b=c#d", "/%09/x", " /x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localPath(next)
		if got != "/" && got != next {
			t.Fatalf("localPath(%q) = %q: neither the target nor home", next, got)
		}
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		if !strings.HasPrefix(browser, "/") || strings.HasPrefix(browser, "//") {
			t.Fatalf("localPath(%q) = %q, which a browser reads as %q: not a path on this site", next, got, browser)
		}
		u, err := url.Parse(browser)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("localPath(%q) = %q leaves this site (%v)", next, got, err)
		}
	})
}
