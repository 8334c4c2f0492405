package ui

import (
	"time"

	"github.com/relais-fr/relais/locales"
)

// endsOn writes the date of a representation.ending_soon entry (ends_on,
// YYYY-MM-DD, a day in France) as the other dates of the journal; empty
// when erased or malformed, and the sentence then leaves it out.
func endsOn(day, lang string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return ""
	}
	// Noon: the same day in France whatever its offset.
	return locales.FormatDate(t.Add(12*time.Hour), lang)
}
