package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandLinesThatDoNotParseAreUsageErrors: whatever cobra or pflag
// cannot parse ends with exit 2 and a pointer to --help, known by where
// the error arose (markUsageErrors), not by its text.
func TestCommandLinesThatDoNotParseAreUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"an unknown command", []string{"serve-me"}},
		{"an unknown flag", []string{"serve", "--bogus"}},
		{"an unknown shorthand flag", []string{"version", "-z"}},
		{"a flag without its value", []string{"serve", "--listen"}},
		{"a flag with a value of the wrong type", []string{"serve", "--busy-timeout", "soon"}},
		{"an argument to a command that takes none", []string{"version", "extra"}},
		{"a command missing its argument", []string{"policy", "check"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr, noEnv)
			if code != 2 || !strings.HasSuffix(stderr.String(), "; see relais --help.\n") {
				t.Errorf("exit %d, stderr %q; want 2 and a pointer to --help", code, stderr.String())
			}
		})
	}
}
