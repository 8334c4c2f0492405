package main

import (
	"context"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/printing"
	"github.com/relais-fr/relais/notices/words"
	"github.com/relais-fr/relais/ui"
)

// operatorNotices is the operators' view of a person's notices: the
// desk asks the service's rule (mandates.Service.NoticesAccess) and
// journals a resend in the person's journal; a resent notice takes the
// recipient's channel as the Notifier does (notices.PaperOnly until the
// preferences are wired). A letter waiting to be printed is checked as
// relais notices print checks it: written in words, then its address.
// The check reads the recipient and the words only; the sender's name and
// contact, which the print command takes, do not change its answer.
func operatorNotices(st store, service *mandates.Service, events mandates.EventSink) (*ui.Notices, error) {
	w, err := words.New(st, words.Options{Sender: "Relais", Contact: "Relais"})
	if err != nil {
		return nil, err
	}
	check := printing.Checker{Writer: w}
	return &ui.Notices{
		Desk: &notices.Desk{Store: st, Access: service, Events: events},
		Letters: func(ctx context.Context, n notices.Notice) (string, error) {
			p, err := check.Problem(ctx, n)
			return string(p), err
		},
	}, nil
}
