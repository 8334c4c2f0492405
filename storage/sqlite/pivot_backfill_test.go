package sqlite

import (
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// A person recorded before the pivot key existed gets one from migration
// 00029, and is found by it afterwards.
func TestMigrationFillsThePivotKeysOfOlderPersons(t *testing.T) {
	s, p := migratedForPlans(t)
	ctx := t.Context()
	jeanne := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Jeanne", FamilyName: "Lefèvre",
		BirthDate: mandates.Date(1941, 3, 2), BirthPlace: mandates.Place{Code: "75056"}, Gender: mandates.GenderFemale}
	if err := s.CreatePerson(ctx, jeanne); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 28); err != nil {
		t.Fatal(err)
	}
	key := mandates.PivotKey(jeanne)
	if got, err := s.PersonsByPivot(ctx, key); err != nil || len(got) != 0 {
		t.Fatalf("before migration 00029: PersonsByPivot = %d persons, %v; want none (the key is not written yet)", len(got), err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PersonsByPivot(ctx, key); err != nil || len(got) != 1 || got[0].ID != jeanne.ID {
		t.Fatalf("after migration 00029: PersonsByPivot = %v, %v; want Jeanne", got, err)
	}
}
