package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// ActivationTTL is how long an activation code works: a letter takes days
// to arrive, and the person may need help to use it.
const ActivationTTL = 30 * 24 * time.Hour

// ErrAlreadyActive: the account has a password already; an activation
// letter would be of no use (the person asks for a new password instead).
var ErrAlreadyActive = errors.New("accounts: the account is already activated")

// Desk opens accounts for persons met at a desk, each with its login
// name and its activation letter, and sends a new letter on request.
type Desk struct {
	Service *mandates.Service
	Tx      mandates.Transactor
	Events  mandates.EventSink
	Codes   *authn.AccountCodes
	Notices *notices.CodeNotices
	Names   authn.LoginNameStore
	Persons mandates.PersonStore
}

// Opened is an account just opened: the person, the login name written
// in their letter, and the letter.
type Opened struct {
	Person    mandates.Person
	LoginName string
	Letter    notices.Notice
}

// Open opens the account (mandates.Service.OpenAccount decides who may
// and checks the person), gives it a login name, issues its activation
// code and writes the letter that carries it through the person's channel,
// all in one transaction: an account never exists without its letter.
func (d *Desk) Open(ctx context.Context, a mandates.Actor, in mandates.AccountInput) (Opened, error) {
	var out Opened
	err := d.Tx.InTx(ctx, func(ctx context.Context) error {
		p, err := d.Service.OpenAccount(ctx, a, in)
		if err != nil {
			return err
		}
		out.Person = p
		if out.LoginName, err = d.giveLoginName(ctx, p); err != nil {
			return err
		}
		out.Letter, err = sendActivation(ctx, d.Codes, d.Notices, d.Events, a.PersonID, p.ID, "desk")
		return err
	})
	if err != nil {
		return Opened{}, err
	}
	return out, nil
}

// Resend writes a new activation letter for a person whose account is not
// activated yet, at an operator's request: a new code, the old one void.
// Anyone but an operator gets mandates.ErrNotFound; an activated account,
// ErrAlreadyActive.
func (d *Desk) Resend(ctx context.Context, op mandates.Actor, personID string) (notices.Notice, error) {
	var n notices.Notice
	err := d.Tx.InTx(ctx, func(ctx context.Context) error {
		p, err := d.Service.PersonForOperator(ctx, op, personID)
		if err != nil {
			return err
		}
		if p.PasswordHash != "" {
			return ErrAlreadyActive
		}
		if _, err := d.Names.LoginName(ctx, p.ID); errors.Is(err, mandates.ErrNotFound) {
			if _, err := d.giveLoginName(ctx, p); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		n, err = sendActivation(ctx, d.Codes, d.Notices, d.Events, op.PersonID, p.ID, "operator")
		return err
	})
	return n, err
}

// LoginName is the person's login name, "" when they have none.
func (d *Desk) LoginName(ctx context.Context, personID string) (string, error) {
	name, err := d.Names.LoginName(ctx, personID)
	if errors.Is(err, mandates.ErrNotFound) {
		return "", nil
	}
	return name, err
}

// sendActivation issues a new activation code (voiding the old one),
// writes the notice that carries it, and journals that it was sent,
// without the code, in the transaction in ctx. by says who asked: desk,
// operator or person.
func sendActivation(ctx context.Context, codes *authn.AccountCodes, cn *notices.CodeNotices, events mandates.EventSink, actorID, personID, by string) (notices.Notice, error) {
	code, err := codes.Issue(ctx, personID, authn.PurposeActivation, ActivationTTL)
	if err != nil {
		return notices.Notice{}, err
	}
	n, err := cn.Write(ctx, personID, mandates.EventActivationSent, code, n0(cn).Add(ActivationTTL))
	if err != nil {
		return notices.Notice{}, err
	}
	err = events.Emit(ctx, mandates.Event{Type: mandates.EventActivationSent, At: n.CreatedAt, ActorID: actorID, PersonID: personID,
		Detail: map[string]string{"notice": n.ID, "channel": string(n.Channel), "by": by}})
	return n, err
}

// n0 is the code notices' clock, so the code's expiry and the letter's
// « until » agree.
func n0(cn *notices.CodeNotices) time.Time {
	if cn.Now != nil {
		return cn.Now()
	}
	return time.Now()
}

// giveLoginName gives the person a login name made of their first given
// name and family name, folded as the identité pivot folds them, and four
// digits: « rose.durand.4821 ». A taken one is tried again with other
// digits.
func (d *Desk) giveLoginName(ctx context.Context, p mandates.Person) (string, error) {
	base := loginNameBase(p)
	for range 8 {
		n, err := rand.Int(rand.Reader, big.NewInt(9000))
		if err != nil {
			return "", err
		}
		name := fmt.Sprintf("%s.%d", base, 1000+n.Int64())
		err = d.Names.SetLoginName(ctx, p.ID, name)
		var taken *mandates.UniqueError
		if errors.As(err, &taken) {
			continue
		}
		return name, err
	}
	return "", fmt.Errorf("give a login name: %w", mandates.ErrConflict)
}

func loginNameBase(p mandates.Person) string {
	given := strings.Fields(mandates.NameKey(p.GivenNames))
	family := strings.Join(strings.Fields(mandates.NameKey(p.FamilyName)), "-")
	if len(given) == 0 {
		return family
	}
	return given[0] + "." + family
}
