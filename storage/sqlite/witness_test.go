package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestWitnessStore(t *testing.T) {
	storagetest.RunWitnessStore(t, func(t *testing.T) (storagetest.WitnessStore, storagetest.SQL) { return openWithSQL(t) })
}
