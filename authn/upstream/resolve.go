package upstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// Why an upstream login is refused: the Detail reason of
// mandates.EventUpstreamRefused.
const (
	ReasonAmbiguous   = "ambiguous"   // several persons have the identité pivot
	ReasonNoMatch     = "no_match"    // nobody has it, and self sign-up is off
	ReasonForged      = "forged"      // the ID token or the answer does not verify
	ReasonExpired     = "expired"     // the ID token, or the login on its way, expired
	ReasonReplayed    = "replayed"    // the return or the code was used before
	ReasonState       = "state"       // the state is unknown, or another browser's
	ReasonNonce       = "nonce"       // the ID token is not this login's
	ReasonIssuer      = "issuer"      // another issuer answered (RFC 9207 mix-up)
	ReasonUnavailable = "unavailable" // the provider is down or slow
	ReasonNotMember   = "not_member"  // ProConnect: no membership of that organisation
)

// RefusedError is a refused upstream login, already journaled.
type RefusedError struct {
	Provider string
	Reason   string
	Err      error // what went wrong, for the logs only
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("upstream %s login refused (%s): %v", e.Provider, e.Reason, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// refuse journals a refusal, in the chain of each person concerned (every
// candidate of an ambiguous pivot reads it in their journal), or, with
// nobody known, in the deployment's chain; and returns it as a
// *RefusedError. A journal that cannot write makes it a store error.
func (c *Client) refuse(ctx context.Context, reason string, personIDs []string, cause error) error {
	detail := func() map[string]string { return map[string]string{"provider": c.cfg.Name, "reason": reason} }
	err := c.st.Tx.InTx(ctx, func(ctx context.Context) error {
		at := c.cfg.Now().UTC()
		if len(personIDs) == 0 {
			return c.st.Events.Emit(ctx, mandates.Event{Type: mandates.EventUpstreamRefused, At: at, Detail: detail()})
		}
		for _, id := range personIDs {
			if err := c.st.Events.Emit(ctx, mandates.Event{Type: mandates.EventUpstreamRefused, At: at, PersonID: id, Detail: detail()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal an upstream refusal: %w", err)
	}
	return &RefusedError{Provider: c.cfg.Name, Reason: reason, Err: cause}
}

// Outcome is the person an upstream login logs in, and what happened.
type Outcome struct {
	PersonID string
	Linked   bool // the upstream account was linked now, by the identité pivot
	Opened   bool // the account was opened now (self sign-up)
}

// Resolve finds the person id logs in: the person the upstream account is
// linked to; else the one person with the identité pivot of the claims,
// linked now (login.upstream_linked); else, with self sign-up, a new
// account (account.opened by franceconnect). Several persons with the
// pivot are refused (ambiguous, in each one's journal); nobody, without
// self sign-up, is refused (no_match). The login is journaled
// (login.succeeded, method the provider's name) with the link or the
// account, in one transaction.
func (c *Client) Resolve(ctx context.Context, id Identity) (Outcome, error) {
	if id.Subject == "" {
		return Outcome{}, c.refuse(ctx, ReasonForged, nil, errors.New("no sub"))
	}
	if c.cfg.Name == authn.UpstreamProConnect {
		return c.resolveProfessional(ctx, id)
	}
	link, err := c.st.Links.UpstreamLinkOf(ctx, c.cfg.Name, id.Subject)
	switch {
	case err == nil:
		return Outcome{PersonID: link.PersonID}, c.st.Tx.InTx(ctx, func(ctx context.Context) error {
			return c.loggedIn(ctx, link.PersonID)
		})
	case !errors.Is(err, mandates.ErrNotFound):
		return Outcome{}, err
	}
	claimed := id.Claims.Person()
	key := mandates.PivotKey(claimed)
	persons, err := c.st.Pivots.PersonsByPivot(ctx, key)
	if err != nil {
		return Outcome{}, err
	}
	switch {
	case len(persons) > 1:
		ids := make([]string, len(persons))
		for i, p := range persons {
			ids[i] = p.ID
		}
		return Outcome{}, c.refuse(ctx, ReasonAmbiguous, ids, fmt.Errorf("%d persons have this identité pivot", len(persons)))
	case len(persons) == 1:
		p := persons[0]
		err := c.st.Tx.InTx(ctx, func(ctx context.Context) error {
			if err := c.link(ctx, p.ID, id.Subject); err != nil {
				return err
			}
			// An account never activated is activated by its first
			// upstream login (issue 16, point 3).
			if p.PasswordHash == "" {
				if err := c.emit(ctx, mandates.EventAccountActivated, p.ID, nil); err != nil {
					return err
				}
			}
			return c.loggedIn(ctx, p.ID)
		})
		if errors.Is(err, mandates.ErrAlreadyExists) {
			// The person already has another account of this provider
			// linked: which one is theirs is for a desk to say.
			return Outcome{}, c.refuse(ctx, ReasonAmbiguous, []string{p.ID}, err)
		}
		return Outcome{PersonID: p.ID, Linked: true}, err
	case key == "" || !c.cfg.SelfSignUp:
		return Outcome{}, c.refuse(ctx, ReasonNoMatch, nil, errors.New("nobody has this identité pivot"))
	}
	return c.open(ctx, id, claimed)
}

// resolveProfessional finds the professional a ProConnect login logs in:
// the person with the email ProConnect gives, an active member of the
// organisation with the SIRET it gives; else refused (not_member), in the
// person's journal when the email is theirs. ProConnect logins are not
// linked: the membership is checked at every login.
func (c *Client) resolveProfessional(ctx context.Context, id Identity) (Outcome, error) {
	siret, email := mandates.NormalSIRET(id.Claims.SIRET), id.Claims.Email
	if siret == "" || email == "" {
		return Outcome{}, c.refuse(ctx, ReasonNotMember, nil, errors.New("no siret or no email"))
	}
	p, err := c.st.Persons.PersonByEmail(ctx, email)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return Outcome{}, c.refuse(ctx, ReasonNotMember, nil, errors.New("no account has this email"))
	case err != nil:
		return Outcome{}, err
	}
	org, err := c.st.Orgs.OrganisationBySIRET(ctx, siret)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return Outcome{}, c.refuse(ctx, ReasonNotMember, []string{p.ID}, errors.New("no organisation has this SIRET"))
	case err != nil:
		return Outcome{}, err
	}
	m, err := c.st.Orgs.Membership(ctx, org.ID, p.ID)
	switch {
	case errors.Is(err, mandates.ErrNotFound) || err == nil && !m.Active:
		return Outcome{}, c.refuse(ctx, ReasonNotMember, []string{p.ID}, errors.New("not an active member of the organisation"))
	case err != nil:
		return Outcome{}, err
	}
	return Outcome{PersonID: p.ID}, c.st.Tx.InTx(ctx, func(ctx context.Context) error { return c.loggedIn(ctx, p.ID) })
}

// open opens the account of a person nobody had, from the provider's
// claims (self sign-up), links it and logs it in, in one transaction. An
// email another account already has is left out of the new one.
func (c *Client) open(ctx context.Context, id Identity, p mandates.Person) (Outcome, error) {
	now := c.cfg.Now().UTC()
	p.ID = mandates.NewID(now)
	p.Language = "fr"
	if p.Email != "" {
		if _, err := c.st.Persons.PersonByEmail(ctx, p.Email); err == nil {
			p.Email = ""
		} else if !errors.Is(err, mandates.ErrNotFound) {
			return Outcome{}, err
		}
	}
	if err := p.Validate(); err != nil {
		// Claims Relais cannot keep (a malformed code) open nothing.
		return Outcome{}, c.refuse(ctx, ReasonNoMatch, nil, err)
	}
	err := c.st.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := c.st.Persons.CreatePerson(ctx, p); err != nil {
			return err
		}
		if err := c.emitBy(ctx, mandates.EventAccountOpened, p.ID, map[string]string{"by": c.cfg.Name}); err != nil {
			return err
		}
		if err := c.link(ctx, p.ID, id.Subject); err != nil {
			return err
		}
		return c.loggedIn(ctx, p.ID)
	})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{PersonID: p.ID, Linked: true, Opened: true}, nil
}

func (c *Client) link(ctx context.Context, personID, subject string) error {
	err := c.st.Links.SaveUpstreamLink(ctx, authn.UpstreamLink{Provider: c.cfg.Name, Subject: subject, PersonID: personID,
		LinkedAt: c.cfg.Now().UTC()})
	if err != nil {
		return err
	}
	return c.emit(ctx, mandates.EventUpstreamLinked, personID, map[string]string{"provider": c.cfg.Name})
}

func (c *Client) loggedIn(ctx context.Context, personID string) error {
	return c.emit(ctx, mandates.EventLoginSucceeded, personID, map[string]string{"method": c.cfg.Name})
}

// emit journals an act of the person for themselves.
func (c *Client) emit(ctx context.Context, t mandates.EventType, personID string, detail map[string]string) error {
	return c.st.Events.Emit(ctx, mandates.Event{Type: t, At: c.cfg.Now().UTC(), ActorID: personID, PersonID: personID, Detail: detail})
}

// emitBy journals an act nobody in Relais did (the provider opened the
// account): no actor.
func (c *Client) emitBy(ctx context.Context, t mandates.EventType, personID string, detail map[string]string) error {
	return c.st.Events.Emit(ctx, mandates.Event{Type: t, At: c.cfg.Now().UTC(), PersonID: personID, Detail: detail})
}
