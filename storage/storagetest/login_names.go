package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

func testLoginNames(t *testing.T, s Store) {
	ctx := t.Context()
	rose, paul := newPerson(""), newPerson("")
	paul.GivenNames = "Paul"
	mustCreatePerson(t, s, rose)
	mustCreatePerson(t, s, paul)

	if _, err := s.LoginName(ctx, rose.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("LoginName before any = %v, want ErrNotFound", err)
	}
	if err := s.SetLoginName(ctx, rose.ID, "rose.durand.4821"); err != nil {
		t.Fatal(err)
	}
	if name, err := s.LoginName(ctx, rose.ID); err != nil || name != "rose.durand.4821" {
		t.Errorf("LoginName = %q, %v", name, err)
	}
	if id, err := s.PersonIDByLoginName(ctx, "rose.durand.4821"); err != nil || id != rose.ID {
		t.Errorf("PersonIDByLoginName = %q, %v; want Rose", id, err)
	}
	if _, err := s.PersonIDByLoginName(ctx, "nobody.1234"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("PersonIDByLoginName(unknown) = %v, want ErrNotFound", err)
	}

	// A taken name is refused, in a transaction that stays usable: the
	// caller tries another name in it.
	err := s.InTx(ctx, func(ctx2 context.Context) error {
		var u *mandates.UniqueError
		if err := s.SetLoginName(ctx2, paul.ID, "rose.durand.4821"); !errors.As(err, &u) || u.Field != "login_name" {
			t.Errorf("a taken name = %v, want a UniqueError on login_name", err)
		}
		return s.SetLoginName(ctx2, paul.ID, "paul.durand.1111")
	})
	if err != nil {
		t.Fatalf("another name in the same transaction = %v", err)
	}
	if id, err := s.PersonIDByLoginName(ctx, "paul.durand.1111"); err != nil || id != paul.ID {
		t.Errorf("Paul's name = %q, %v", id, err)
	}
	// A new name replaces the old one.
	if err := s.SetLoginName(ctx, rose.ID, "rose.durand.9999"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PersonIDByLoginName(ctx, "rose.durand.4821"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the old name = %v, want ErrNotFound", err)
	}
}

func testListPersons(t *testing.T, s Store) {
	ctx := t.Context()
	var ids []string
	base := time.Now()
	for i, family := range []string{"Lefébure", "Lefèvre-Moreau", "Durand", "LEFEVRE"} {
		p := newPerson("")
		// One millisecond apart: UUIDv7 ids made in one millisecond are in
		// no particular order, and the list is in id order.
		p.ID = mandates.NewID(base.Add(time.Duration(i) * time.Millisecond))
		p.FamilyName = family
		mustCreatePerson(t, s, p)
		if family != "Durand" {
			ids = append(ids, p.ID)
		}
	}
	page, err := s.ListPersons(ctx, mandates.NameKey("lefe"), "", 2)
	if err != nil || len(page) != 2 || page[0].ID != ids[0] || page[1].ID != ids[1] {
		t.Fatalf("first page = %v, %v; want the first two Lefe…", personIDs(page), err)
	}
	rest, err := s.ListPersons(ctx, mandates.NameKey("lefe"), page[1].ID, 2)
	if err != nil || len(rest) != 1 || rest[0].ID != ids[2] {
		t.Fatalf("second page = %v, %v; want the last Lefe…", personIDs(rest), err)
	}
	if all, err := s.ListPersons(ctx, "", "", 10); err != nil || len(all) != 4 {
		t.Errorf("everybody = %v, %v; want 4", personIDs(all), err)
	}
	if got, err := s.ListPersons(ctx, mandates.NameKey("Jeanne Marie Lefèvre"), "", 10); err != nil || len(got) != 2 || got[0].ID != ids[1] || got[1].ID != ids[2] {
		t.Errorf("by given and family name = %v, %v; want Jeanne Marie Lefèvre-Moreau and Jeanne Marie LEFEVRE", personIDs(got), err)
	}
}
