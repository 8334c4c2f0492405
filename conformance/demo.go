package conformance

import (
	"bufio"
	"strings"
	"unicode"
)

// DemoTOTPKey finds, in what `relais serve --demo` printed, the
// second-factor key of the demo professional whose account is email: the
// word after "key " on the line "<Given name>'s second factor …". Empty
// when the demo gives that account no second factor.
func DemoTOTPKey(out, email string) string {
	given, _, _ := strings.Cut(email, ".")
	if given == "" {
		return ""
	}
	r := []rune(given)
	r[0] = unicode.ToUpper(r[0])
	prefix := string(r) + "'s second factor"
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		if _, after, ok := strings.Cut(line, "key "); ok {
			if f := strings.Fields(after); len(f) > 0 {
				return strings.TrimRight(f[0], ",")
			}
		}
	}
	return ""
}
