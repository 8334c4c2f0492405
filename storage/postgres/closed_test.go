package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// TestAClosedStoreIsUnavailable: a call on a store whose pool is closed
// (a request still running while the server shuts down) gets
// ErrUnavailable, known by pgxpool's sentinel, not by its text.
func TestAClosedStoreIsUnavailable(t *testing.T) {
	s, err := postgres.Open(t.Context(), pgtest.NewDatabase(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("Ping after Close: %v, want ErrUnavailable", err)
	}
	if _, err := s.Person(t.Context(), mandates.NewID(time.Now())); !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("Person after Close: %v, want ErrUnavailable", err)
	}
}
