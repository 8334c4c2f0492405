package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestSubjectStore(t *testing.T) {
	storagetest.RunSubjectStore(t, func(t *testing.T) storagetest.SubjectStore { return openTemp(t) })
}

func TestCosignatures(t *testing.T) {
	storagetest.RunCosignatures(t, func(t *testing.T) storagetest.CosignatureStore { return openTemp(t) })
}
