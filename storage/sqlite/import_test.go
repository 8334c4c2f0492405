package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestImport(t *testing.T) {
	storagetest.RunImport(t, func(t *testing.T) storagetest.ImportStore { return openTemp(t) })
}
