package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestProofStore(t *testing.T) {
	storagetest.RunProofStore(t, func(t *testing.T) storagetest.ProofStore { return openTemp(t) })
}
