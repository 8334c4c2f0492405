package mandates

// SayReason words a reason in French and English for the tests of this
// package. The words live in the package locales, which imports mandates,
// so the tests of mandates reach them through this hook, which
// locales_test.go (package mandates_test, in the same test binary) sets.
var SayReason func(Reason) (fr, en string)

// said is a reason as the pages and the API word it.
type said struct{ FR, EN string }

func words(r Reason) said {
	fr, en := SayReason(r)
	return said{fr, en}
}
