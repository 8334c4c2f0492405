package accounts_test

import (
	"testing"
	"time"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/notices"
)

// BenchmarkRequest measures the work of « Mot de passe oublié » for an
// account and for an email no account has, on SQLite, without limits or
// answer time: the difference is the code, its notice and its entry,
// written in one transaction, which the answer time hides
// (Recovery.Request).
func BenchmarkRequest(b *testing.B) {
	for _, bb := range []struct{ name, email string }{{"account", "jeanne@example.fr"}, {"no account", "nobody@example.fr"}} {
		b.Run(bb.name, func(b *testing.B) {
			w := newBenchWorld(b)
			for b.Loop() {
				if err := w.Request(b.Context(), bb.email, "192.0.2.1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func newBenchWorld(b *testing.B) *accounts.Recovery {
	b.Helper()
	w := openWorld(b)
	now := func() time.Time { return w.clock }
	sink := &notices.Notifier{Sink: w.events, Store: w.st, Reader: w.st, Channels: chosen{&w.channel}, Now: now}
	codes := authn.NewAccountCodes(w.st, w.st, authn.CodeLimits{}, now)
	codeNotices := &notices.CodeNotices{Store: w.st, Reader: w.st, Channels: chosen{&w.channel}, Sealer: w.box, Now: now}
	return accounts.NewRecovery(w.st, codes, codeNotices, sink, nil, accounts.RecoveryLimits{PerAccount: 1 << 30, PerAddress: 1 << 30}, now,
		accounts.WithAnswerTime(0, nil)) // the work alone
}
