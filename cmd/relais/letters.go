package main

import (
	"time"
	_ "time/tzdata" // Europe/Paris is built in: the days of paper are never counted in UTC

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
)

// noticeLetters is the service of « Comment je reçois mes courriers »: the
// rule of who chooses is the representation service's, each step is
// journaled through sink (the Notifier around the journal, so that a
// confirmed channel is told on paper), and the codes go through senders,
// the same email and SMS senders as the dispatcher's. Without senders the
// page offers paper only and says why. The days of « sur papier
// jusqu’au … » are counted in days (noticeDays).
func noticeLetters(st store, rule *mandates.Service, sink mandates.EventSink, senders map[notices.Channel]notices.Sender, days *time.Location) *prefs.Service {
	return &prefs.Service{Store: st, Rule: rule, Events: sink, Senders: senders, Location: days}
}

// noticeDays is where the days of « sur papier jusqu’au 10 mars » are
// counted: Europe/Paris, from the zone data built into the binary
// (time/tzdata), so that a server without zone data never counts them in
// UTC. serve loads it once and gives it to the preferences' service and
// lookup.
func noticeDays() (*time.Location, error) { return time.LoadLocation("Europe/Paris") }
