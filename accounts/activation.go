package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// Activation is what the person (or their tutor) does with an activation
// code on /activer: choose the account's password; and the public
// « Je n'ai pas de code » that sends a new letter.
type Activation struct {
	Service  *mandates.Service
	Tx       mandates.Transactor
	Events   mandates.EventSink
	Codes    *authn.AccountCodes
	Notices  *notices.CodeNotices
	Auth     *authn.Authenticator // hashes the password in its pool
	Persons  mandates.PersonStore
	Names    authn.LoginNameStore
	Attempts authn.AttemptStore
	// Links tells whether the account already has a linked login
	// (FranceConnect): then it is active, and a code refused.
	Links LinkedLogins
	Now   func() time.Time // default time.Now
	// AskLimits bound « Je n'ai pas de code »: per address, and per
	// account (a new letter at most once a day).
	AskPerAddress int // default 5 an hour
}

// LinkedLogins lists a person's logins through an upstream provider; the
// stores implement it.
type LinkedLogins interface {
	UpstreamLinksOf(ctx context.Context, personID string) ([]authn.UpstreamLink, error)
}

// Activated is an account just activated, and the login name to log in
// with ("" when it has none: the person logs in with their email).
type Activated struct {
	Person    mandates.Person
	LoginName string
}

// Activate checks the new password (authn.CheckNewPassword: the person's
// mistake costs them nothing), then, in one transaction, uses the code and
// sets the password, and journals EventAccountActivated. With tutor set,
// the tutor does it for the person: mandates.Service.MayActivateFor
// decides, and the event names the tutor as the actor.
//
// A wrong, used or expired code fails with authn.ErrBadCode or
// authn.ErrCodeExpired, and counts against the address
// (authn.ErrTooManyAttempts past the limit). A code of an account that got
// in another way meanwhile (a password set by a reset, a FranceConnect
// link) is spent and refused with ErrAlreadyActive: a letter found later
// takes nothing over. The person signed in who types their own code acts
// as themselves, whatever tutor says.
func (ac *Activation) Activate(ctx context.Context, tutor *mandates.Actor, code, password, again, address string) (Activated, error) {
	hash, err := ac.Auth.HashNewPassword(ctx, password, again)
	if err != nil {
		return Activated{}, err
	}
	var out Activated
	var codeErr error
	err = ac.Tx.InTx(ctx, func(ctx context.Context) error {
		personID, err := ac.Codes.Redeem(ctx, code, authn.PurposeActivation, address)
		if authn.CodeRefused(err) {
			// The attempt counted for the address commits: a wrong code is
			// a guess, and guesses are bounded.
			codeErr = err
			return nil
		}
		if err != nil {
			return err
		}
		if err := ac.notActive(ctx, personID); err != nil {
			// The code is spent with the refusal: it commits.
			codeErr = err
			return nil
		}
		if tutor != nil && tutor.PersonID == personID {
			tutor = nil
		}
		actorID := personID
		if tutor != nil {
			if err := ac.Service.MayActivateFor(ctx, *tutor, personID); err != nil {
				return err
			}
			actorID = tutor.PersonID
		}
		p, err := ac.Persons.UpdatePerson(ctx, personID, func(p *mandates.Person) error {
			p.PasswordHash = hash
			return nil
		})
		if err != nil {
			return err
		}
		out.Person = p
		if out.LoginName, err = ac.Names.LoginName(ctx, personID); errors.Is(err, mandates.ErrNotFound) {
			out.LoginName = ""
		} else if err != nil {
			return err
		}
		detail := map[string]string{"method": "pwd"}
		if tutor != nil {
			detail["by"] = "tutor"
		}
		return ac.Events.Emit(ctx, mandates.Event{Type: mandates.EventAccountActivated, At: ac.now(), ActorID: actorID, PersonID: personID, Detail: detail})
	})
	if err != nil {
		return Activated{}, fmt.Errorf("activate an account: %w", err)
	}
	if codeErr != nil {
		return Activated{}, codeErr
	}
	return out, nil
}

// notActive refuses with ErrAlreadyActive an account that has a password
// or a linked login.
func (ac *Activation) notActive(ctx context.Context, personID string) error {
	p, err := ac.Persons.Person(ctx, personID)
	if err != nil {
		return err
	}
	if p.PasswordHash != "" {
		return ErrAlreadyActive
	}
	links, err := ac.Links.UpstreamLinksOf(ctx, personID)
	if err != nil {
		return err
	}
	if len(links) > 0 {
		return ErrAlreadyActive
	}
	return nil
}

func (ac *Activation) now() time.Time {
	if ac.Now != nil {
		return ac.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// AskAgain is « Je n'ai pas de code »: the person gives their email or
// their login name, and an account not activated yet gets a new letter
// (a new code, the old one void), at most once a day. The answer is the
// same whether the account exists, is activated, or was sent a letter
// already today: nil. Only too many requests from one address in an hour
// fail, with authn.ErrTooManyAttempts, whatever the login given.
func (ac *Activation) AskAgain(ctx context.Context, login, address string) error {
	now := ac.now()
	perAddress := ac.AskPerAddress
	if perAddress <= 0 {
		perAddress = 5
	}
	ok, err := ac.Attempts.ReserveAttempt(ctx, now.Truncate(time.Hour), authn.AttemptLimit{Key: "activation-ask-address:" + address, Max: perAddress})
	if err != nil {
		return fmt.Errorf("count a request for a letter: %w", err)
	}
	if !ok {
		return authn.ErrTooManyAttempts
	}
	p, err := ac.account(ctx, login)
	if errors.Is(err, mandates.ErrNotFound) || errors.Is(err, mandates.ErrInvalid) || (err == nil && p.PasswordHash != "") {
		return nil
	}
	if err != nil {
		return err
	}
	return ac.Tx.InTx(ctx, func(ctx context.Context) error {
		day := now.Truncate(24 * time.Hour)
		ok, err := ac.Attempts.ReserveAttempt(ctx, day, authn.AttemptLimit{Key: "activation-ask-person:" + p.ID, Max: 1})
		if err != nil || !ok {
			return err
		}
		_, err = sendActivation(ctx, ac.Codes, ac.Notices, ac.Events, "", p.ID, "person")
		return err
	})
}

// account finds the person by email or login name.
func (ac *Activation) account(ctx context.Context, login string) (mandates.Person, error) {
	if !authn.IsLoginName(login) {
		return ac.Persons.PersonByEmail(ctx, login)
	}
	id, err := ac.Names.PersonIDByLoginName(ctx, authn.LoginNameKey(login))
	if err != nil {
		return mandates.Person{}, err
	}
	return ac.Persons.Person(ctx, id)
}
