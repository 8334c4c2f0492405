package storagetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

func testUpstreamLogins(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	state, binding := sha256.Sum256([]byte("state")), sha256.Sum256([]byte("binding"))
	l := authn.UpstreamLogin{StateHash: state[:], Provider: authn.UpstreamFranceConnect, Purpose: authn.UpstreamPurposeLogin,
		BindingHash: binding[:], Return: "/espace", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.SaveUpstreamLogin(ctx, l); err != nil {
		t.Fatal(err)
	}
	// Two returns at once with one state: exactly one takes it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var took, used int
	for range 4 {
		wg.Go(func() {
			got, err := s.TakeUpstreamLogin(ctx, state[:], now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				took++
				if got.Provider != l.Provider || got.Purpose != l.Purpose || !bytes.Equal(got.BindingHash, l.BindingHash) ||
					got.Return != l.Return || !got.ExpiresAt.Equal(l.ExpiresAt) {
					t.Errorf("taken %+v, want %+v", got, l)
				}
			case errors.Is(err, authn.ErrUpstreamLoginUsed):
				used++
			default:
				t.Errorf("TakeUpstreamLogin: %v", err)
			}
		})
	}
	wg.Wait()
	if took != 1 || used != 3 {
		t.Errorf("4 returns with one state: %d took it and %d found it used, want 1 and 3", took, used)
	}
	unknown := sha256.Sum256([]byte("unknown"))
	if _, err := s.TakeUpstreamLogin(ctx, unknown[:], now); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("TakeUpstreamLogin(unknown) = %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteExpired(ctx, mandates.ExpiredUpstreamLogins, now.Add(11*time.Minute), 100); err != nil || n != 1 {
		t.Errorf("DeleteExpired(upstream logins) = %d, %v; want 1", n, err)
	}
	if _, err := s.TakeUpstreamLogin(ctx, state[:], now); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("TakeUpstreamLogin after the sweep = %v, want ErrNotFound", err)
	}
}

func testUpstreamLinks(t *testing.T, s Store) {
	ctx := t.Context()
	p, other := newPerson(""), newPerson("")
	other.GivenNames = "Paul"
	mustCreatePerson(t, s, p)
	mustCreatePerson(t, s, other)
	now := time.Now().UTC().Truncate(time.Millisecond)
	link := authn.UpstreamLink{Provider: authn.UpstreamFranceConnect, Subject: "sub-1", PersonID: p.ID, LinkedAt: now}
	if _, err := s.UpstreamLinkOf(ctx, link.Provider, link.Subject); !errors.Is(err, mandates.ErrNotFound) {
		t.Fatalf("UpstreamLinkOf before any link = %v, want ErrNotFound", err)
	}
	if err := s.SaveUpstreamLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpstreamLinkOf(ctx, link.Provider, link.Subject)
	if err != nil || got.PersonID != p.ID || !got.LinkedAt.Equal(now) {
		t.Errorf("UpstreamLinkOf = %+v, %v; want %+v", got, err, link)
	}
	// One sub, one person; one link per person and provider.
	if err := s.SaveUpstreamLink(ctx, authn.UpstreamLink{Provider: link.Provider, Subject: "sub-1", PersonID: other.ID, LinkedAt: now}); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("the sub linked twice: %v, want ErrAlreadyExists", err)
	}
	if err := s.SaveUpstreamLink(ctx, authn.UpstreamLink{Provider: link.Provider, Subject: "sub-2", PersonID: p.ID, LinkedAt: now}); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("a second FranceConnect link for the person: %v, want ErrAlreadyExists", err)
	}
	if err := s.SaveUpstreamLink(ctx, authn.UpstreamLink{Provider: authn.UpstreamProConnect, Subject: "sub-1", PersonID: p.ID, LinkedAt: now.Add(time.Second)}); err != nil {
		t.Errorf("a ProConnect link beside FranceConnect's: %v", err)
	}
	links, err := s.UpstreamLinksOf(ctx, p.ID)
	if err != nil || len(links) != 2 || links[0].Provider != authn.UpstreamFranceConnect || links[1].Provider != authn.UpstreamProConnect {
		t.Errorf("UpstreamLinksOf = %+v, %v; want FranceConnect then ProConnect", links, err)
	}
	if err := s.DeleteUpstreamLink(ctx, p.ID, authn.UpstreamFranceConnect); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpstreamLink(ctx, p.ID, authn.UpstreamFranceConnect); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("deleting a link twice = %v, want ErrNotFound", err)
	}
	if links, err := s.UpstreamLinksOf(ctx, p.ID); err != nil || len(links) != 1 {
		t.Errorf("after the removal: %+v, %v; want ProConnect's alone", links, err)
	}
}

func testOrganisationSIRET(t *testing.T, s Store) {
	ctx := t.Context()
	admin := newPerson("")
	mustCreatePerson(t, s, admin)
	org := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "France Services Nantes", Kind: mandates.OrgFranceServices,
		SIRET: "73282932000074", CreatedBy: admin.ID}
	if err := s.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}
	got, err := s.OrganisationBySIRET(ctx, "73282932000074")
	if err != nil || got.ID != org.ID || got.SIRET != org.SIRET {
		t.Fatalf("OrganisationBySIRET = %+v, %v; want the organisation", got, err)
	}
	if _, err := s.OrganisationBySIRET(ctx, ""); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("OrganisationBySIRET(\"\") = %v, want ErrNotFound", err)
	}
	// Organisations without a SIRET are many; one SIRET is one organisation.
	for range 2 {
		none := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "CCAS", Kind: mandates.OrgCCAS, CreatedBy: admin.ID}
		if err := s.CreateOrganisation(ctx, none); err != nil {
			t.Fatalf("an organisation without SIRET: %v", err)
		}
	}
	twin := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "Twin", Kind: mandates.OrgOther, SIRET: org.SIRET, CreatedBy: admin.ID}
	if err := s.CreateOrganisation(ctx, twin); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("a second organisation with one SIRET = %v, want ErrAlreadyExists", err)
	}
	bad := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "Bad", Kind: mandates.OrgOther, SIRET: "73282932000075", CreatedBy: admin.ID}
	if err := s.CreateOrganisation(ctx, bad); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a SIRET whose key is wrong = %v, want ErrInvalid", err)
	}
	updated, err := s.UpdateOrganisation(ctx, org.ID, func(o *mandates.Organisation) error { o.SIRET = "35600000000048"; return nil })
	if err != nil || updated.SIRET != "35600000000048" {
		t.Fatalf("UpdateOrganisation(SIRET) = %+v, %v", updated, err)
	}
	if got, err := s.OrganisationBySIRET(ctx, "35600000000048"); err != nil || got.ID != org.ID {
		t.Errorf("by the new SIRET = %+v, %v", got, err)
	}
}
