package mandates

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// How an account was opened, as EventAccountOpened's Detail "by" says.
const (
	OpenedAtDesk = "desk" // a page of Relais, by an operator or an aidant
	OpenedByCLI  = "cli"  // relais persons create
	OpenedByAPI  = "api"  // POST /api/v1/persons
)

// AccountInput is what a desk types to open an account for a person it
// has in front of it, after checking an identity document.
type AccountInput struct {
	// Person is the identity, the postal address (required: the
	// activation code goes out by letter unless the person chose
	// otherwise), and optionally an email, a phone and a language. Its ID,
	// PasswordHash and dates are set by the service.
	Person Person
	// IdentityChecked: the operator or aidant says they checked an
	// identity document. Required: an account opened at a desk rests on
	// that check.
	IdentityChecked bool
	// Homonym: an operator checked that the person is not the one who
	// already has an account with the same identité pivot, and opens a
	// second one. Only operators may; journaled as Detail homonym=true.
	Homonym bool
	// By is where the act comes from: OpenedAtDesk, OpenedByCLI or
	// OpenedByAPI (default OpenedAtDesk).
	By string
}

// SamePersonError: a person with the same identité pivot already has an
// account; the desk finds it rather than open a second one. It matches
// ErrAlreadyExists with errors.Is. IDs are the existing accounts, in id
// order; an aidant's answer leaves them out (they may not read persons).
type SamePersonError struct {
	IDs []string
}

func (e *SamePersonError) Error() string {
	return "mandates: a person with the same identity already has an account"
}

// Is makes errors.Is(err, ErrAlreadyExists) true for a *SamePersonError.
func (e *SamePersonError) Is(target error) bool { return target == ErrAlreadyExists }

// mayOpenAccounts is the rule of who opens an account at a desk: an
// operator; or an aidant (an active member of an organisation) logged in
// with their second factor. It says whether the actor is an operator.
func (s *Service) mayOpenAccounts(ctx context.Context, a Actor) (operator bool, err error) {
	operator, err = s.isOperator(ctx, a.PersonID)
	if err != nil || operator {
		return operator, err
	}
	if !IsID(a.PersonID) {
		return false, fmt.Errorf("%w: only an operator or an aidant may open an account", ErrNotPermitted)
	}
	ms, err := s.store.MembershipsOf(ctx, a.PersonID)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.Active {
			if !a.SecondFactor {
				return false, ErrSecondFactor
			}
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: only an operator or an aidant may open an account", ErrNotPermitted)
}

// MayOpenAccounts says whether the actor may open accounts at a desk
// (nil), or why not: ErrNotPermitted, or ErrSecondFactor for an aidant
// whose login used no second factor.
func (s *Service) MayOpenAccounts(ctx context.Context, a Actor) error {
	_, err := s.mayOpenAccounts(ctx, a)
	return err
}

// checkAccount is the rule of an account opened at a desk: a valid
// identity with the names, the birth date and the gender a pivot match
// needs, and a postal address for the letters.
func checkAccount(in *AccountInput) error {
	p := &in.Person
	switch {
	case !in.IdentityChecked:
		return invalid("identity_checked", RuleRequired)
	case strings.TrimSpace(p.GivenNames) == "":
		return invalid("given_names", RuleRequired)
	case strings.TrimSpace(p.FamilyName) == "":
		return invalid("family_name", RuleRequired)
	case p.BirthDate.IsZero():
		return invalid("birth_date", RuleRequired)
	case p.Gender == GenderUnspecified:
		return invalid("gender", RuleRequired)
	case strings.TrimSpace(p.Address.Street) == "":
		return invalid("address_street", RuleRequired)
	case strings.TrimSpace(p.Address.PostalCode) == "":
		return invalid("address_postal_code", RuleRequired)
	case strings.TrimSpace(p.Address.Locality) == "":
		return invalid("address_locality", RuleRequired)
	}
	if err := checkPivotNames(*p); err != nil {
		return err
	}
	switch in.By {
	case "":
		in.By = OpenedAtDesk
	case OpenedAtDesk, OpenedByCLI, OpenedByAPI:
	default:
		return invalid("by", RuleUnknown)
	}
	return p.Validate()
}

// OpenAccount opens an account for a person whose identity the actor
// checked at a desk (MayOpenAccounts), and journals it (EventAccountOpened,
// Detail by, and homonym=true when an operator confirmed a homonym), in
// the transaction in ctx or in its own. The account has no password yet:
// the person sets one with an activation code (package accounts).
//
// A person whose identité pivot (PivotKey) some account already has is
// refused with a *SamePersonError, unless an operator sets in.Homonym
// after checking that they are two people; an aidant setting it gets an
// InvalidError on "homonym". Bad input gets an *InvalidError naming the
// field; an email another account has, a *UniqueError.
func (s *Service) OpenAccount(ctx context.Context, a Actor, in AccountInput) (Person, error) {
	operator, err := s.mayOpenAccounts(ctx, a)
	if err != nil {
		return Person{}, err
	}
	if in.Homonym && !operator {
		return Person{}, invalid("homonym", RuleForbidden)
	}
	pivots, ok := s.store.(PivotStore)
	if !ok {
		return Person{}, fmt.Errorf("open an account: %w: the store cannot find persons by identity", ErrUnavailable)
	}
	now := s.now()
	p := in.Person
	p.ID, p.PasswordHash, p.CreatedAt, p.UpdatedAt, p.Version = NewID(now), "", now, now, 0
	p.GivenNames, p.FamilyName, p.PreferredName = strings.TrimSpace(p.GivenNames), strings.TrimSpace(p.FamilyName), strings.TrimSpace(p.PreferredName)
	p.Email, p.Phone = strings.TrimSpace(p.Email), strings.TrimSpace(p.Phone)
	if p.Language == "" {
		p.Language = "fr"
	}
	in.Person = p
	if err := checkAccount(&in); err != nil {
		return Person{}, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		same, err := pivots.PersonsByPivot(ctx, PivotKey(p))
		if err != nil {
			return err
		}
		if len(same) > 0 && !in.Homonym {
			e := &SamePersonError{}
			if operator {
				for _, o := range same {
					e.IDs = append(e.IDs, o.ID)
				}
			}
			return e
		}
		if err := s.store.CreatePerson(ctx, p); err != nil {
			return err
		}
		detail := map[string]string{"by": in.By}
		if in.Homonym && len(same) > 0 {
			detail["homonym"] = "true"
		}
		return s.emit(ctx, Event{Type: EventAccountOpened, At: now, ActorID: a.PersonID, PersonID: p.ID, Detail: detail})
	})
	if err != nil {
		return Person{}, fmt.Errorf("open an account: %w", err)
	}
	return s.store.Person(ctx, p.ID)
}

// MayActivateFor is the rule of who, beside the person, may use the
// person's activation code: their tutor, holding a tutelle over them in
// force now (as tuteur, co-tuteur or tuteur à la personne) in their own
// name, or through an organisation (an MJPM service) the actor is an
// active member of, logged in with a second factor. Anyone else gets
// ErrNotPermitted; a member of that organisation without the second
// factor, ErrSecondFactor.
func (s *Service) MayActivateFor(ctx context.Context, a Actor, personID string) error {
	if !IsID(a.PersonID) || !IsID(personID) || a.PersonID == personID {
		return fmt.Errorf("%w: only the person's tutor may activate the account for them", ErrNotPermitted)
	}
	reps, err := s.store.RepresentationsOf(ctx, personID)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	needsFactor := false
	for _, r := range reps {
		if r.Kind != Tutelle || !r.ActiveAt(now) || !tutorRole(r.Role) {
			continue
		}
		if r.Representative.PersonID == a.PersonID {
			return nil
		}
		if org := r.Representative.OrganisationID; org != "" {
			m, err := s.store.Membership(ctx, org, a.PersonID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if m.Active && a.SecondFactor {
				return nil
			}
			needsFactor = needsFactor || m.Active
		}
	}
	if needsFactor {
		return ErrSecondFactor
	}
	return fmt.Errorf("%w: only the person's tutor may activate the account for them", ErrNotPermitted)
}

// tutorRole: the roles of a tutelle that look after the person (the
// tuteur aux biens manages property only, the subrogé tuteur oversees).
func tutorRole(r Role) bool {
	return r == RoleTuteur || r == RoleCoTuteur || r == RoleTuteurPersonne
}

// PersonQuery pages through persons for an operator.
type PersonQuery struct {
	// Name keeps persons whose given or family name contains it, compared
	// as PivotKey compares names (case and accents ignored).
	Name string
	// After is the last id of the previous page ("" for the first).
	After string
	// Limit is the page's size: default 50, at most 200.
	Limit int
}

// PersonLister lists persons in id order.
type PersonLister interface {
	// ListPersons returns at most limit persons with an id after after,
	// whose folded names (NameKey of "given family") contain name.
	ListPersons(ctx context.Context, name, after string, limit int) ([]Person, error)
}

// NameKey is a name folded as PivotKey folds it: lower case, without
// accents, any run of other characters as one space.
func NameKey(s string) string { return pivotName(s) }

// ListPersons is the operators' list of persons, by pages; anyone else
// gets ErrNotPermitted. The second value is the After of the next page,
// "" on the last.
func (s *Service) ListPersons(ctx context.Context, op Actor, q PersonQuery) ([]Person, string, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return nil, "", err
	}
	lister, ok := s.store.(PersonLister)
	if !ok {
		return nil, "", fmt.Errorf("list persons: %w: the store cannot list persons", ErrUnavailable)
	}
	switch {
	case q.Limit == 0:
		q.Limit = 50
	case q.Limit < 0 || q.Limit > 200:
		return nil, "", invalidLimit("limit", RuleTooMany, 200)
	}
	if q.After != "" && !IsID(q.After) {
		return nil, "", invalid("after", RuleFormat)
	}
	if err := checkText("name", q.Name, 200, false); err != nil {
		return nil, "", err
	}
	list, err := lister.ListPersons(ctx, NameKey(q.Name), q.After, q.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list persons: %w", err)
	}
	next := ""
	if len(list) > q.Limit {
		list = list[:q.Limit]
		next = list[q.Limit-1].ID
	}
	return list, next, nil
}

// PersonForOperator is one person's record, for an operator only; anyone
// else gets ErrNotFound, so nobody learns who has an account.
func (s *Service) PersonForOperator(ctx context.Context, op Actor, id string) (Person, error) {
	ok, err := s.isOperator(ctx, op.PersonID)
	if err != nil {
		return Person{}, err
	}
	if !ok || !IsID(id) {
		return Person{}, fmt.Errorf("person %s: %w", id, ErrNotFound)
	}
	return s.store.Person(ctx, id)
}
