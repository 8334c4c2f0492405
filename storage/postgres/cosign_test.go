package postgres_test

import (
	"context"
	"testing"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/storagetest"
)

func TestSubjectStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunSubjectStore(t, func(t *testing.T) storagetest.SubjectStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}

func TestCosignatures(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunCosignatures(t, func(t *testing.T) storagetest.CosignatureStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}
