package main

import (
	"time"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/ui"
)

// accountsDesk is the desk that opens accounts and sends their
// activation letters, for serve, the API and relais persons create.
func accountsDesk(st store, service *mandates.Service, events mandates.EventSink, codes *authn.AccountCodes, cn *notices.CodeNotices) *accounts.Desk {
	return &accounts.Desk{Service: service, Tx: st, Events: events, Codes: codes, Notices: cn, Names: st, Persons: st}
}

// uiAccounts is what serve's pages about accounts need; with
// franceConnect, /activer also offers to activate with FranceConnect.
func uiAccounts(st store, service *mandates.Service, events mandates.EventSink, codes *authn.AccountCodes, cn *notices.CodeNotices, auth *authn.Authenticator, franceConnect bool) *ui.Accounts {
	a := &ui.Accounts{
		Desk: accountsDesk(st, service, events, codes, cn),
		Activation: &accounts.Activation{Service: service, Tx: st, Events: events, Codes: codes, Notices: cn, Auth: auth,
			Persons: st, Names: st, Attempts: st, Links: st, Now: time.Now},
	}
	if franceConnect {
		a.ActivationFranceConnect = "/connexion/franceconnect?activer=1"
	}
	return a
}
