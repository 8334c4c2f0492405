package mandates

import (
	"errors"
	"testing"
	"time"
)

var applyNow = time.Date(2027, time.March, 3, 14, 5, 6, 123456789, time.UTC)

func storedRepresentation() Representation {
	from := time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC)
	return Representation{ID: NewID(from), Kind: AidantMandate, PersonID: NewID(from.Add(time.Second)),
		Representative: Representative{OrganisationID: NewID(from.Add(2 * time.Second))}, Role: RoleAidant,
		Areas: []Area{"social"}, ValidFrom: from, ValidUntil: from.AddDate(1, 0, 0), Status: StatusActive,
		Source:    Source{Consent: &ConsentRecord{Method: ConsentInPersonAttestation, GivenAt: from, WitnessID: NewID(from.Add(3 * time.Second))}},
		CreatedAt: from, UpdatedAt: from, Version: 2,
		History: []Change{{Seq: 1, Type: EventCreated, To: StatusPendingConsent}, {Seq: 2, Type: EventActivated, From: StatusPendingConsent, To: StatusActive}}}
}

func TestApplyRepresentationUpdate(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(*Representation) (Change, error)
		wantErr error
	}{
		{"a suspension bumps the version and becomes history entry 3",
			func(r *Representation) (Change, error) {
				r.Status = StatusSuspended
				return Change{Type: EventSuspended}, nil
			}, nil},
		{"the caller's refusal comes back unchanged",
			func(*Representation) (Change, error) { return Change{}, ErrNotPermitted }, ErrNotPermitted},
		{"a changed id is refused",
			func(r *Representation) (Change, error) {
				r.ID = NewID(applyNow)
				return Change{Type: EventSuspended}, nil
			}, ErrInvalid},
		{"an invalid result is refused",
			func(r *Representation) (Change, error) { r.Areas = nil; return Change{Type: EventSuspended}, nil }, ErrInvalid},
		{"a change without a type is refused",
			func(r *Representation) (Change, error) { return Change{}, nil }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := storedRepresentation()
			r, c, err := ApplyRepresentationUpdate(old, tt.fn, applyNow)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if r.Version != old.Version || r.ID != old.ID {
					t.Errorf("a refused update returned %s v%d, want the old record", r.ID, r.Version)
				}
				return
			}
			stamp := applyNow.Truncate(time.Microsecond)
			if r.Version != 3 || !r.UpdatedAt.Equal(stamp) || !r.CreatedAt.Equal(old.CreatedAt) {
				t.Errorf("version %d updated %v created %v, want 3, %v, %v", r.Version, r.UpdatedAt, r.CreatedAt, stamp, old.CreatedAt)
			}
			if c.Seq != 3 || c.From != StatusActive || c.To != StatusSuspended || !c.At.Equal(stamp) {
				t.Errorf("change = %+v, want seq 3 from active to suspended at %v", c, stamp)
			}
		})
	}
}

func TestApplyRepresentationUpdateLeavesTheReadRecordAlone(t *testing.T) {
	old := storedRepresentation()
	_, _, err := ApplyRepresentationUpdate(old, func(r *Representation) (Change, error) {
		r.Areas[0] = "argent"
		r.History[0].Type = EventRevoked
		return Change{Type: EventSuspended}, nil
	}, applyNow)
	if err != nil {
		t.Fatal(err)
	}
	if old.Areas[0] != "social" || old.History[0].Type != EventCreated {
		t.Errorf("fn reached the record read: areas %v, first entry %s", old.Areas, old.History[0].Type)
	}
}

func TestApplyOrganisationUpdate(t *testing.T) {
	created := time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC)
	base := Organisation{ID: NewID(created), Name: "France Services Tulle", Kind: OrgFranceServices, Areas: []Area{"social"},
		CreatedAt: created, UpdatedAt: created, Version: 4}
	tests := []struct {
		name      string
		fn        func(*Organisation) error
		wantErr   error
		wantAreas int
	}{
		{"a renamed organisation gets the next version", func(o *Organisation) error { o.Name = "France Services Brive"; return nil }, nil, 1},
		{"no areas read back as every area (nil)", func(o *Organisation) error { o.Areas = []Area{}; return nil }, nil, 0},
		{"a changed id is refused", func(o *Organisation) error { o.ID = NewID(applyNow); return nil }, ErrInvalid, 0},
		{"an empty name is refused", func(o *Organisation) error { o.Name = " "; return nil }, ErrInvalid, 0},
		{"the caller's error comes back", func(*Organisation) error { return ErrNotPermitted }, ErrNotPermitted, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ApplyOrganisationUpdate(base, tt.fn, applyNow)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if o.Version != 5 || !o.UpdatedAt.Equal(applyNow.Truncate(time.Microsecond)) || !o.CreatedAt.Equal(created) {
				t.Errorf("version %d updated %v created %v", o.Version, o.UpdatedAt, o.CreatedAt)
			}
			if len(o.Areas) != tt.wantAreas || (tt.wantAreas == 0 && o.Areas != nil) {
				t.Errorf("areas = %#v, want %d (nil when none)", o.Areas, tt.wantAreas)
			}
		})
	}
}

func TestApplyConsentCodeUpdate(t *testing.T) {
	base := ConsentCode{RepresentationID: NewID(applyNow), CodeHash: []byte{1, 2, 3}, SentAt: applyNow, ExpiresAt: applyNow.Add(10 * time.Minute)}
	tests := []struct {
		name    string
		fn      func(*ConsentCode) error
		wantErr error
	}{
		{"a wrong code is counted", func(c *ConsentCode) error { c.Attempts++; return nil }, nil},
		{"the representation cannot change", func(c *ConsentCode) error { c.RepresentationID = NewID(applyNow.Add(time.Hour)); return nil }, ErrInvalid},
		{"a code without a hash could never be checked", func(c *ConsentCode) error { c.CodeHash = nil; return nil }, ErrInvalid},
		{"a code without an expiry could never be checked", func(c *ConsentCode) error { c.ExpiresAt = time.Time{}; return nil }, ErrInvalid},
		{"attempts are never negative", func(c *ConsentCode) error { c.Attempts = -1; return nil }, ErrInvalid},
		{"the caller's error comes back", func(*ConsentCode) error { return ErrConflict }, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ApplyConsentCodeUpdate(base, tt.fn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && c.Attempts != 1 {
				t.Errorf("attempts = %d, want 1", c.Attempts)
			}
		})
	}
}

func TestApplyConsentCodeUpdateCopiesTheHash(t *testing.T) {
	old := ConsentCode{RepresentationID: NewID(applyNow), CodeHash: []byte{1, 2, 3}, ExpiresAt: applyNow}
	if _, err := ApplyConsentCodeUpdate(old, func(c *ConsentCode) error { c.CodeHash[0] = 9; return nil }); err != nil {
		t.Fatal(err)
	}
	if old.CodeHash[0] != 1 {
		t.Errorf("fn changed the hash read: %v", old.CodeHash)
	}
}

func TestApplyCosignatureUpdate(t *testing.T) {
	created := time.Date(2027, time.January, 1, 0, 0, 0, 0, time.UTC)
	base := Cosignature{ID: NewID(created), ClientID: "caf", PersonID: NewID(created.Add(time.Second)), ActorID: NewID(created.Add(2 * time.Second)),
		Action: Dispose, Area: "argent", Description: "Clôturer le compte", RepresentationID: NewID(created.Add(3 * time.Second)),
		Party: PartyPerson, Status: CosignPending, CreatedAt: created, ExpiresAt: created.Add(48 * time.Hour), Version: 1}
	tests := []struct {
		name    string
		fn      func(*Cosignature) error
		wantErr error
	}{
		{"an approval gets the next version", func(c *Cosignature) error {
			c.Status, c.DecidedAt, c.DecidedBy = CosignApproved, applyNow, c.PersonID
			return nil
		}, nil},
		{"the site cannot change", func(c *Cosignature) error { c.ClientID = "impots"; return nil }, ErrInvalid},
		{"the actor cannot change", func(c *Cosignature) error { c.ActorID = NewID(applyNow); return nil }, ErrInvalid},
		{"the representation cannot change", func(c *Cosignature) error { c.RepresentationID = NewID(applyNow); return nil }, ErrInvalid},
		{"the caller's error comes back", func(*Cosignature) error { return ErrInactive }, ErrInactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ApplyCosignatureUpdate(base, tt.fn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (c.Version != 2 || c.Status != CosignApproved) {
				t.Errorf("version %d status %s, want 2, approved", c.Version, c.Status)
			}
			if err != nil && c != base {
				t.Errorf("a refused update returned %+v, want the record read", c)
			}
		})
	}
}
