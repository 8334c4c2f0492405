package main

import (
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
)

// noticeLetters is the service of « Comment je reçois mes courriers »: the
// rule of who chooses is the representation service's, each step is
// journaled through sink (the Notifier around the journal, so that a
// confirmed channel is told on paper), and the codes go through senders,
// the same email and SMS senders as the dispatcher's. Without senders the
// page offers paper only and says why.
func noticeLetters(st store, rule *mandates.Service, sink mandates.EventSink, senders map[notices.Channel]notices.Sender) *prefs.Service {
	return &prefs.Service{Store: st, Rule: rule, Persons: st, Events: sink, Senders: senders}
}
