package mandates

import (
	"context"
	"errors"
	"slices"
)

// LoginWays are the ways a person can log in: their own password, and the
// upstream providers (FranceConnect, ProConnect) their account is linked
// to, by name.
type LoginWays struct {
	Password bool
	Upstream []string
}

// ErrLastLogin: the way to log in a person asked to remove is their last
// one; without it, nobody could log in to the account.
var ErrLastLogin = errors.New("mandates: the last way to log in cannot be removed")

// CanRemoveUpstream says whether the person may remove the link to
// provider: ErrNotFound when there is none, ErrLastLogin when it is the
// only way left to log in.
func (w LoginWays) CanRemoveUpstream(provider string) error {
	if !slices.Contains(w.Upstream, provider) {
		return ErrNotFound
	}
	if !w.Password && len(w.Upstream) == 1 {
		return ErrLastLogin
	}
	return nil
}

// The ways a login is made, as login.succeeded's Detail method names them.
const (
	LoginPassword      = "pwd"
	LoginFranceConnect = "franceconnect"
	LoginProConnect    = "proconnect"
)

// LoginRule is the deployment's rule of who logs in how.
type LoginRule struct {
	// RequireProConnect: operators and the active members of an
	// organisation (aidants, delegates, administrators) log in through
	// ProConnect only, never with a password or FranceConnect.
	RequireProConnect bool
}

// ErrProConnectRequired: this person must log in through ProConnect.
var ErrProConnectRequired = errors.New("mandates: this person logs in through ProConnect")

// Allows says whether a person logs in by method; professional: an
// operator, or an active member of an organisation.
func (r LoginRule) Allows(method string, professional bool) error {
	if r.RequireProConnect && professional && method != LoginProConnect {
		return ErrProConnectRequired
	}
	return nil
}

// LoginAllowed asks rule whether the person may log in by method, from
// what the store says of them (the operator role, their memberships).
func (s *Service) LoginAllowed(ctx context.Context, rule LoginRule, personID, method string) error {
	if rule.Allows(method, true) == nil {
		return nil // allowed whoever the person is: nothing to read
	}
	op, err := s.isOperator(ctx, personID)
	if err != nil {
		return err
	}
	ms, err := s.store.MembershipsOf(ctx, personID)
	if err != nil {
		return err
	}
	return rule.Allows(method, op || slices.ContainsFunc(ms, func(m Membership) bool { return m.Active }))
}
