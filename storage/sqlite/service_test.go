package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestService(t *testing.T) {
	storagetest.RunService(t, func(t *testing.T) storagetest.ServiceStore { return openTemp(t) })
}
