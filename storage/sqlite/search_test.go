package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestSearch(t *testing.T) {
	storagetest.RunSearch(t, func(t *testing.T) storagetest.SearchStore { return openTemp(t) })
}
