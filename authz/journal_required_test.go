package authz_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates/mandatestest"
)

// noProofs stands for the DPoP proof store, which NewProvider checks
// before the journal.
type noProofs struct{}

func (noProofs) UseDPoPProof(context.Context, string, time.Time, time.Time) error { return nil }

// oneTx stands for a transactor, which NewProvider also requires.
type oneTx struct{}

func (oneTx) InTx(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }

// TestJournalIsRequired: no constructor of an act that is journaled
// accepts a missing sink (issue 14, point 5); a missed line of wiring
// fails at start instead of dropping audit events.
func TestJournalIsRequired(t *testing.T) {
	cfg := authz.ProviderConfig{Issuer: "https://relais.example.fr", SecretKey: bytes.Repeat([]byte{1}, 32)}
	t.Run("the provider refuses stores without an event sink", func(t *testing.T) {
		_, err := authz.NewProvider(cfg, authz.Stores{Tx: oneTx{}, Proofs: noProofs{}}, nil, nil)
		if !errors.Is(err, authz.ErrNoJournal) {
			t.Errorf("NewProvider without Events: %v, want ErrNoJournal", err)
		}
	})
	t.Run("the provider refuses an event sink without transactions", func(t *testing.T) {
		_, err := authz.NewProvider(cfg, authz.Stores{Events: mandatestest.Discard{}, Proofs: noProofs{}}, nil, nil)
		if !errors.Is(err, authz.ErrNoJournal) {
			t.Errorf("NewProvider without Tx: %v, want ErrNoJournal", err)
		}
	})
}
