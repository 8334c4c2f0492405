package mandates

import (
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
