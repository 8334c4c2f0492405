package postgres_test

import (
	"context"
	"testing"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/storagetest"
)

func TestImport(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunImport(t, func(t *testing.T) storagetest.ImportStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}
