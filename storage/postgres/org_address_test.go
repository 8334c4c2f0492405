package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// An organisation written before migration 00027 gave organisations a
// postal address reads back, once migrated, with an empty one and
// everything else as it was.
func TestAnOrganisationFromBeforeAddressesReadsWithoutOne(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.NewDatabase(t)
	s := open(t, dsn)
	p, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.UpTo(ctx, 26); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	id := mandates.NewID(time.Now())
	if _, err := pool.Exec(ctx, `INSERT INTO organisations (id, name, kind, areas, created_at, updated_at, version)
		VALUES ($1, 'CCAS de Bron', 'ccas', '{social}', now(), now(), 1)`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	o, err := s.Organisation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Address.IsZero() || o.Name != "CCAS de Bron" || o.Kind != mandates.OrgCCAS || len(o.Areas) != 1 || o.Version != 1 {
		t.Errorf("the old organisation reads %+v, want it as written with no address", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("the old organisation without an address: %v, want valid", err)
	}
}
