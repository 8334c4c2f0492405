package mandates_test

import (
	"os"
	"testing"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// TestMain gives the package's tests the words of the reasons, which live
// in locales (words_test.go).
func TestMain(m *testing.M) {
	mandates.SayReason = func(r mandates.Reason) (string, string) {
		t := locales.Reason(r)
		return t.FR, t.EN
	}
	os.Exit(m.Run())
}
