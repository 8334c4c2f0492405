package authn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
)

// noTx runs each act without a transaction, where a test must hold an
// act in the middle (limits_test.go's gate).
type noTx struct{}

func (noTx) InTx(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }

// TestJournalIsRequired: no constructor of an act that is journaled
// accepts a missing sink (issue 14, point 5); a missed line of wiring
// fails at start instead of dropping audit events.
func TestJournalIsRequired(t *testing.T) {
	panics := []struct {
		name string
		make func()
	}{
		{"the authenticator panics without a sink", func() { authn.NewAuthenticator(nil, nil, authn.LoginLimits{}, nil, nil, noTx{}) }},
		{"journaled consents panic without a sink", func() { authn.JournaledConsents(nil, nil, noTx{}) }},
		{"journaled sessions panic without a sink", func() { authn.JournaledSessions(nil, nil, noTx{}, nil) }},
		{"journaled sessions panic without transactions", func() {
			authn.JournaledSessions(nil, mandates.EventSink(mandatestest.Discard{}), nil, nil)
		}},
	}
	for _, tt := range panics {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, authn.ErrNoJournal) {
					t.Errorf("recovered %v, want a panic with ErrNoJournal", err)
				}
			}()
			tt.make()
		})
	}
}
