package mandates

import (
	"context"
	"fmt"
)

// IdentityDocument is the kind of identity document an operator checked at
// a desk before removing a person's lost second factor.
type IdentityDocument string

const (
	DocumentIDCard          IdentityDocument = "id_card"          // carte nationale d'identité
	DocumentPassport        IdentityDocument = "passport"         // passeport
	DocumentResidencePermit IdentityDocument = "residence_permit" // titre de séjour
	DocumentDrivingLicence  IdentityDocument = "driving_licence"  // permis de conduire
)

// IdentityDocuments lists the documents an operator may name, in the order
// a form offers them.
var IdentityDocuments = []IdentityDocument{DocumentIDCard, DocumentPassport, DocumentResidencePermit, DocumentDrivingLicence}

// Valid says whether d is one of IdentityDocuments.
func (d IdentityDocument) Valid() bool {
	for _, k := range IdentityDocuments {
		if d == k {
			return true
		}
	}
	return false
}

// IdentityCheck is what the operator says they checked: that they saw an
// identity document of the person, and which kind.
type IdentityCheck struct {
	Checked  bool
	Document IdentityDocument
}

// SecondFactorResetAccess says whether a may remove the second factor of
// the person personID, who lost it (their phone, their recovery codes),
// after checking check: nil, or
//   - ErrNotPermitted: a is not an operator;
//   - ErrSecondFactor: a's own login did not use a second factor. Removing
//     a second factor is the act that opens an account to whoever has its
//     password, so the operator's password alone is never enough (as a
//     representation held through an organisation needs one, DESIGN.md §4);
//   - *InvalidError: "person" RuleSelf (an operator asks a colleague, or
//     uses their own recovery codes), "identity_checked" RuleRequired,
//     "document" RuleRequired or RuleUnknown;
//   - ErrNotFound: no such person;
//   - ErrNoSecondFactor: the person has none to remove.
//
// Callers run it in the transaction that removes the second factor and
// journals EventSecondFactorReset.
func (s *Service) SecondFactorResetAccess(ctx context.Context, a Actor, personID string, check IdentityCheck) error {
	if err := s.requireOperator(ctx, a); err != nil {
		return err
	}
	if !a.SecondFactor {
		return fmt.Errorf("reset a second factor: the operator's login: %w", ErrSecondFactor)
	}
	switch {
	case personID == a.PersonID:
		return invalid("person", RuleSelf)
	case !check.Checked:
		return invalid("identity_checked", RuleRequired)
	case check.Document == "":
		return invalid("document", RuleRequired)
	case !check.Document.Valid():
		return invalid("document", RuleUnknown)
	case !IsID(personID):
		return fmt.Errorf("second factor of %q: %w", personID, ErrNotFound)
	}
	if _, err := s.store.Person(ctx, personID); err != nil {
		return fmt.Errorf("second factor of %s: %w", personID, err)
	}
	on, err := s.store.SecondFactorEnrolled(ctx, personID)
	if err != nil {
		return err
	}
	if !on {
		return fmt.Errorf("second factor of %s: %w", personID, ErrNoSecondFactor)
	}
	return nil
}
