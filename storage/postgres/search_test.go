package postgres_test

import (
	"context"
	"testing"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/storagetest"
)

func TestSearch(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunSearch(t, func(t *testing.T) storagetest.SearchStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}
