package lettertest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Tool finds a tool of Debian's poppler-utils: skipped without it on a
// developer's machine, a failure when CI is set.
func Tool(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found: apt-get install poppler-utils", tool)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is a failure and not a skip)")
	}
	t.Skip(msg)
	return ""
}

// Run runs a poppler-utils tool and returns its output; a failure of the
// tool fails the test.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), Tool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}
