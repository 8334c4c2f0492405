package sqlite_test

import (
	"testing"

	"github.com/relais-fr/relais/storage/storagetest"
)

func TestNotices(t *testing.T) {
	storagetest.RunNotices(t, func(t *testing.T) storagetest.NoticeStore { return openTemp(t) })
}

func TestNoticeChoices(t *testing.T) {
	storagetest.RunNoticeChoices(t, func(t *testing.T) storagetest.NoticeChoiceStore { return openTemp(t) })
}
