package mandates

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// CreateOrganisation records an organisation and its first administrator.
func (s *Service) CreateOrganisation(ctx context.Context, op Actor, o Organisation, adminID string) (Organisation, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return Organisation{}, err
	}
	now := s.now()
	o.ID, o.CreatedBy, o.Areas, o.Address = NewID(now), op.PersonID, SortAreas(o.Areas), trimAddress(o.Address)
	if err := o.Validate(); err != nil {
		return Organisation{}, err
	}
	if err := RequirePostalAddress(o.Address); err != nil {
		return Organisation{}, err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.personExists(ctx, "admin", adminID); err != nil {
			return err
		}
		if err := s.store.CreateOrganisation(ctx, o); err != nil {
			return err
		}
		m := Membership{OrganisationID: o.ID, PersonID: adminID, Role: MemberAdmin, Active: true, HabilitatedBy: op.PersonID, HabilitatedAt: now}
		if err := s.store.SaveMembership(ctx, m); err != nil {
			return err
		}
		if err := s.emit(ctx, Event{Type: EventOrganisationCreated, At: now, ActorID: op.PersonID, OrganisationID: o.ID, Areas: o.Areas,
			Detail: detail("kind", string(o.Kind))}); err != nil {
			return err
		}
		return s.emit(ctx, Event{Type: EventMemberHabilitated, At: now, ActorID: op.PersonID, OrganisationID: o.ID, PersonID: adminID,
			Detail: detail("role", string(MemberAdmin))})
	})
	if err != nil {
		return Organisation{}, fmt.Errorf("create organisation: %w", err)
	}
	return s.store.Organisation(ctx, o.ID)
}

// Organisation returns an organisation to one of its members or an
// operator; others get ErrNotFound.
func (s *Service) Organisation(ctx context.Context, viewer, id string) (Organisation, error) {
	if !IsID(id) {
		return Organisation{}, ErrNotFound
	}
	if _, err := s.store.Membership(ctx, id, viewer); err != nil {
		if !errors.Is(err, ErrNotFound) {
			return Organisation{}, err
		}
		if ok, err := s.isOperator(ctx, viewer); err != nil {
			return Organisation{}, err
		} else if !ok {
			return Organisation{}, ErrNotFound
		}
	}
	return s.store.Organisation(ctx, id)
}

// Organisations lists every organisation, for an operator.
func (s *Service) Organisations(ctx context.Context, op Actor) ([]Organisation, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return nil, err
	}
	return s.store.Organisations(ctx)
}

// MembershipView is a membership with names.
type MembershipView struct {
	Membership
	Organisation Organisation
	Name, Email  string
}

// MembershipsOf lists the organisations the person belongs to.
func (s *Service) MembershipsOf(ctx context.Context, personID string) ([]MembershipView, error) {
	ms, err := s.store.MembershipsOf(ctx, personID)
	if err != nil {
		return nil, err
	}
	out := make([]MembershipView, 0, len(ms))
	for _, m := range ms {
		o, err := s.store.Organisation(ctx, m.OrganisationID)
		if err != nil {
			return nil, err
		}
		out = append(out, MembershipView{Membership: m, Organisation: o})
	}
	return out, nil
}

// requireAdmin checks the actor administers the organisation (or is an
// operator).
func (s *Service) requireAdmin(ctx context.Context, a Actor, orgID string) error {
	m, err := s.store.Membership(ctx, orgID, a.PersonID)
	if err == nil && m.Active && m.Role == MemberAdmin {
		return nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if ok, err := s.isOperator(ctx, a.PersonID); err != nil || ok {
		return err
	}
	return fmt.Errorf("%w: only the organisation's administrator may do this", ErrNotPermitted)
}

// Members lists an organisation's members with their names, for its
// administrator or an operator.
func (s *Service) Members(ctx context.Context, a Actor, orgID string) ([]MembershipView, error) {
	if err := s.requireAdmin(ctx, a, orgID); err != nil {
		return nil, err
	}
	o, err := s.store.Organisation(ctx, orgID)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.Members(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]MembershipView, 0, len(ms))
	for _, m := range ms {
		p, err := s.store.Person(ctx, m.PersonID)
		if err != nil {
			return nil, err
		}
		out = append(out, MembershipView{Membership: m, Organisation: o, Name: DisplayName(p), Email: p.Email})
	}
	return out, nil
}

// Mandates lists the representations the organisation holds, for its
// administrator or an operator.
func (s *Service) Mandates(ctx context.Context, a Actor, orgID string) ([]View, error) {
	if err := s.requireAdmin(ctx, a, orgID); err != nil {
		return nil, err
	}
	reps, err := s.store.RepresentationsBy(ctx, "", []string{orgID})
	if err != nil {
		return nil, err
	}
	return s.Describe(ctx, reps)
}

// Habilitate makes a person a member of the organisation (again, if they
// had been withdrawn). An aidant must have turned on a second factor
// first: ErrNoSecondFactor otherwise.
func (s *Service) Habilitate(ctx context.Context, a Actor, orgID, personID string, role MemberRole) (Membership, error) {
	var out Membership
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.requireAdmin(ctx, a, orgID); err != nil {
			return err
		}
		if _, err := s.personExists(ctx, "person", personID); err != nil {
			return err
		}
		m, err := s.store.Membership(ctx, orgID, personID)
		switch {
		case err == nil && m.Active:
			return &UniqueError{Entity: "membership", Field: "person"}
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		if role == MemberAidant {
			// An aidant acts for people only with a second factor
			// (DESIGN.md §4): habilitating one without it would give a
			// right they cannot use.
			ok, err := s.store.SecondFactorEnrolled(ctx, personID)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: person must turn on a second factor in their space before being habilitated as an aidant", ErrNoSecondFactor)
			}
		}
		now := s.now()
		out = Membership{OrganisationID: orgID, PersonID: personID, Role: role, Active: true, HabilitatedBy: a.PersonID, HabilitatedAt: now,
			Version: m.Version}
		if err := s.store.SaveMembership(ctx, out); err != nil {
			return err
		}
		return s.emit(ctx, Event{Type: EventMemberHabilitated, At: now, ActorID: a.PersonID, OrganisationID: orgID, PersonID: personID,
			Detail: detail("role", string(role))})
	})
	if err != nil {
		return Membership{}, fmt.Errorf("habilitate: %w", err)
	}
	return out, nil
}

// WithdrawMember ends a member's habilitation: from now on they can act
// under none of the organisation's mandates, which stay with it.
func (s *Service) WithdrawMember(ctx context.Context, a Actor, orgID, personID string) error {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.requireAdmin(ctx, a, orgID); err != nil {
			return err
		}
		m, err := s.store.Membership(ctx, orgID, personID)
		if err != nil {
			return err
		}
		if !m.Active {
			return fmt.Errorf("%w: this member was already withdrawn", ErrInactive)
		}
		if m.Role == MemberAdmin && a.PersonID == personID {
			return fmt.Errorf("%w: an administrator cannot withdraw themselves", ErrNotPermitted)
		}
		now := s.now()
		m.Active, m.WithdrawnBy, m.WithdrawnAt = false, a.PersonID, now
		if err := s.store.SaveMembership(ctx, m); err != nil {
			return err
		}
		return s.emit(ctx, Event{Type: EventMemberWithdrawn, At: now, ActorID: a.PersonID, OrganisationID: orgID, PersonID: personID})
	})
	if err != nil {
		return fmt.Errorf("withdraw member: %w", err)
	}
	return nil
}

// SetDelegates names the members of the organisation who follow one
// representation (an MJPM service's delegates); none means any member.
// The court registration stays as it is.
func (s *Service) SetDelegates(ctx context.Context, a Actor, id string, version int64, delegates []string) (Representation, error) {
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return r, err
	}
	org := r.Representative.OrganisationID
	// Someone who may not change it learns nothing of it, not even that
	// it exists.
	if org == "" {
		if ok, err := s.isOperator(ctx, a.PersonID); err != nil {
			return Representation{}, err
		} else if !ok {
			return Representation{}, hidden(id)
		}
		return Representation{}, invalid("delegates", RuleForbidden)
	}
	if err := s.requireAdmin(ctx, a, org); err != nil {
		if errors.Is(err, ErrNotPermitted) {
			return Representation{}, fmt.Errorf("representation %s: %w", id, ErrNotFound)
		}
		return Representation{}, err
	}
	for _, d := range delegates {
		m, err := s.store.Membership(ctx, org, d)
		if errors.Is(err, ErrNotFound) || (err == nil && !m.Active) {
			return Representation{}, invalid("delegates", RuleMember)
		}
		if err != nil {
			return Representation{}, err
		}
	}
	return s.change(ctx, id, version, func(r *Representation) (Change, error) {
		if slices.Equal(r.Representative.Delegates, delegates) {
			return Change{}, invalid("delegates", RuleUnchanged)
		}
		r.Representative.Delegates = slices.Clone(delegates)
		return Change{Type: EventDelegatesChanged, ActorID: a.PersonID, OrganisationID: org}, nil
	})
}
