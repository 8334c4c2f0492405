package main

import (
	"context"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/notices/printing"
	"github.com/relais-fr/relais/notices/words"
	"github.com/relais-fr/relais/ui"
)

// operatorNotices is the operators' view of a person's notices: the
// desk asks the service's rule (mandates.Service.NoticesAccess) and
// journals a resend in the person's journal; a resent notice takes the
// recipient's channel as the Notifier does (look, the preferences' lookup). A letter waiting to be printed is checked as
// relais notices print checks it: written in words, then its address.
// The check uses serve's words (w); when notices are not configured
// (w is nil) it uses words signed « Relais »: the sender's name and
// contact change the words, never whether a letter can be printed; codes
// (serve's secret box for notice codes) opens the code a letter carries.
func operatorNotices(st store, service *mandates.Service, events mandates.EventSink, w notices.Writer, look prefs.Lookup, codes notices.Sealer) (*ui.Notices, error) {
	if w == nil {
		ww, err := words.New(st, words.Options{Sender: "Relais", Contact: "Relais", Codes: codes})
		if err != nil {
			return nil, err
		}
		w = ww
	}
	check := printing.Checker{Writer: w}
	return &ui.Notices{
		Desk: &notices.Desk{Store: st, Access: service, Events: events, Channels: look},
		Letters: func(ctx context.Context, n notices.Notice) (string, error) {
			p, err := check.Problem(ctx, n)
			return string(p), err
		},
	}, nil
}
