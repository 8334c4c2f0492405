package postgres_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

// TestTheStoreLinksNoProvider: the PostgreSQL store implements the
// provider's stores without linking fosite, OpenTelemetry or gRPC
// (issue 14).
func TestTheStoreLinksNoProvider(t *testing.T) {
	storagetest.LinksNoProvider(t, ".")
}
