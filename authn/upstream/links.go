package upstream

import (
	"context"
	"fmt"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// Ways are the ways the person logs in, and their link at this provider
// (LinkedAt zero when there is none).
type Ways struct {
	mandates.LoginWays
	Link authn.UpstreamLink
}

// WaysOf says how the person logs in.
func (c *Client) WaysOf(ctx context.Context, personID string) (Ways, error) {
	p, err := c.st.Persons.Person(ctx, personID)
	if err != nil {
		return Ways{}, err
	}
	links, err := c.st.Links.UpstreamLinksOf(ctx, personID)
	if err != nil {
		return Ways{}, err
	}
	w := Ways{LoginWays: mandates.LoginWays{Password: p.PasswordHash != ""}}
	for _, l := range links {
		w.Upstream = append(w.Upstream, l.Provider)
		if l.Provider == c.cfg.Name {
			w.Link = l
		}
	}
	return w, nil
}

// Unlink removes the person's link at this provider, as the person asked,
// unless it is their last way to log in (mandates.ErrLastLogin), and
// journals it (login.upstream_unlinked), in one transaction.
func (c *Client) Unlink(ctx context.Context, personID string) error {
	return c.st.Tx.InTx(ctx, func(ctx context.Context) error {
		w, err := c.WaysOf(ctx, personID)
		if err != nil {
			return err
		}
		if err := w.CanRemoveUpstream(c.cfg.Name); err != nil {
			return fmt.Errorf("unlink %s: %w", c.cfg.Name, err)
		}
		if err := c.st.Links.DeleteUpstreamLink(ctx, personID, c.cfg.Name); err != nil {
			return err
		}
		return c.emit(ctx, mandates.EventUpstreamUnlinked, personID, map[string]string{"provider": c.cfg.Name})
	})
}
