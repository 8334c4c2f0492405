package authz_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates/mandatestest"
)

// TestFirstActsAreRequired: a provider whose stores cannot remember the
// first acts refuses to start, rather than never tell the person.
func TestFirstActsAreRequired(t *testing.T) {
	cfg := authz.ProviderConfig{Issuer: "https://relais.example.fr", SecretKey: bytes.Repeat([]byte{1}, 32)}
	_, err := authz.NewProvider(cfg, authz.Stores{Events: mandatestest.Discard{}, Tx: oneTx{}, Proofs: noProofs{}}, nil, nil)
	if !errors.Is(err, authz.ErrNoFirstActs) {
		t.Errorf("NewProvider without first acts: %v, want ErrNoFirstActs", err)
	}
}
