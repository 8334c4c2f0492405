package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
)

// TestDecisionFactsOneReader: the first DecisionFacts prepares its
// statements before its read transaction takes a connection, so even a
// single reader does not wait for itself.
func TestDecisionFactsOneReader(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relais.db"), sqlite.Options{Readers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	id := mandates.NewID(time.Now())
	if _, err := s.DecisionFacts(ctx, id, mandates.NewID(time.Now())); err != nil {
		t.Fatalf("DecisionFacts with one reader: %v", err)
	}
}
