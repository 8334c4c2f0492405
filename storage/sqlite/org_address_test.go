package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

// An organisation written before migration 00027 gave organisations a
// postal address reads back, once migrated, with an empty one and
// everything else as it was.
func TestAnOrganisationFromBeforeAddressesReadsWithoutOne(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "relais.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if _, err := p.UpTo(ctx, 26); err != nil {
		t.Fatal(err)
	}
	id := mandates.NewID(s.now())
	if _, err := s.w.ExecContext(ctx, `INSERT INTO organisations (id, name, kind, areas, created_at, updated_at, version)
		VALUES (?, 'CCAS de Bron', 'ccas', '["social"]', 1000, 1000, 1)`, id); err != nil {
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
