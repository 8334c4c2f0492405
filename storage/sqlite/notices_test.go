package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestNotices(t *testing.T) {
	storagetest.RunNotices(t, func(t *testing.T) storagetest.NoticeStore { return openTemp(t) })
}
