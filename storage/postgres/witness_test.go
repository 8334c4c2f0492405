package postgres_test

import (
	"context"
	"testing"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/storagetest"
)

func TestWitnessStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunWitnessStore(t, func(t *testing.T) (storagetest.WitnessStore, storagetest.SQL) {
		dsn := pgtest.NewDatabaseFrom(t, tmpl)
		return open(t, dsn), rawSQL(t, dsn)
	})
}
