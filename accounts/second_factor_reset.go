package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// TOTPRemover removes a person's second factor: authn's TOTP store (both
// stores) implements it.
type TOTPRemover interface {
	// DeleteTOTP removes the enrolment and its recovery codes.
	DeleteTOTP(ctx context.Context, personID string) error
}

// SecondFactorReset removes the second factor a person lost (their phone
// and their recovery codes), by an operator who checked their identity at
// a desk. Who may is mandates.Service.SecondFactorResetAccess.
type SecondFactorReset struct {
	rule   *mandates.Service
	totp   TOTPRemover
	tx     mandates.Transactor
	events mandates.EventSink
	now    func() time.Time
}

// NewSecondFactorReset makes a SecondFactorReset. events is required (a
// nil one panics, at start); in relais serve it is the notices' sink, so
// the person is told on paper (notices.Rules).
func NewSecondFactorReset(rule *mandates.Service, totp TOTPRemover, tx mandates.Transactor, events mandates.EventSink, now func() time.Time) *SecondFactorReset {
	if events == nil || tx == nil || rule == nil || totp == nil {
		panic(authn.ErrNoJournal)
	}
	if now == nil {
		now = time.Now
	}
	return &SecondFactorReset{rule: rule, totp: totp, tx: tx, events: events, now: now}
}

// Reset removes the second factor of the person personID for the operator
// a, who checked check, and journals EventSecondFactorReset in the
// person's chain (ActorID the operator, Detail document: the kind of
// document seen, never its number), in one transaction. It fails as
// SecondFactorResetAccess does, or with a store error.
func (s *SecondFactorReset) Reset(ctx context.Context, a mandates.Actor, personID string, check mandates.IdentityCheck) error {
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.rule.SecondFactorResetAccess(ctx, a, personID, check); err != nil {
			return err
		}
		if err := s.totp.DeleteTOTP(ctx, personID); err != nil {
			return fmt.Errorf("remove the second factor of %s: %w", personID, err)
		}
		return s.events.Emit(ctx, mandates.Event{Type: mandates.EventSecondFactorReset, At: s.now().UTC(), ActorID: a.PersonID, PersonID: personID,
			Detail: map[string]string{"document": string(check.Document)}})
	})
}
