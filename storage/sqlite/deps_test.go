package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

// TestTheStoreLinksNoProvider: the SQLite store and the behaviour suite
// implement the provider's stores without linking fosite, OpenTelemetry
// or gRPC (issue 14).
func TestTheStoreLinksNoProvider(t *testing.T) {
	storagetest.LinksNoProvider(t, ".", "github.com/relais-fr/relais/storage/storagetest")
}
