package prefs

import (
	"fmt"
	"sync"
	"time"
)

// The days of a paper-until are days in France: « sur papier jusqu’au
// 10 mars » is paper for all of 10 March in Paris, whatever the server's
// zone. cmd/relais loads Europe/Paris once with the zone data built in
// (time/tzdata) and gives it to the Service and the Lookup.

// paris is Europe/Paris from the system's zone data, loaded once, for a
// Service or a Lookup given no Location.
var paris = sync.OnceValues(func() (*time.Location, error) { return time.LoadLocation("Europe/Paris") })

// zone is loc, or Europe/Paris when nil; an error when it cannot be
// loaded: never UTC instead.
func zone(loc *time.Location) (*time.Location, error) {
	if loc != nil {
		return loc, nil
	}
	l, err := paris()
	if err != nil {
		return nil, fmt.Errorf("prefs: the days of paper are counted in Europe/Paris: %w", err)
	}
	return l, nil
}

// Day is the calendar day of t in loc, as a choice keeps a day: midnight
// UTC of that date.
func Day(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
