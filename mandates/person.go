package mandates

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Person is anyone with an account: a protected adult, a representative, an
// aidant, an operator. Identity fields follow what French public services
// already exchange (FranceConnect's pivot identity): given names, family
// name, birth date, birth place as an INSEE code, birth country.
type Person struct {
	ID            string
	GivenNames    string // all given names, space separated, as on the civil register
	FamilyName    string // nom de naissance
	PreferredName string // nom d'usage, empty when none
	BirthDate     time.Time
	BirthPlace    Place  // empty code when born abroad
	BirthCountry  string // INSEE country code: "99100" for France
	Gender        Gender
	Email         string  // optional: many protected adults have none
	Phone         string  // optional
	Address       Address // postal address, for paper letters; optional
	Language      string  // preferred language: "fr" or "en"
	PasswordHash  string  // argon2id PHC string; empty when the person cannot log in yet
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Version counts changes; stores use it to refuse lost updates.
	Version int64
}

// Place is a commune of the INSEE Code officiel géographique.
type Place struct {
	Code  string // INSEE code, e.g. "75056"
	Label string // e.g. "Paris"
}

// Address is a postal address, as OpenID Connect Core §5.1.1 splits it.
type Address struct {
	Street     string // street_address: number, street, and any other lines
	PostalCode string
	Locality   string // commune
	Country    string // country name, e.g. "France"
}

// IsZero says whether no part of the address is known.
func (a Address) IsZero() bool { return a == Address{} }

// Formatted is the address as it is written on an envelope.
func (a Address) Formatted() string {
	lines := []string{}
	if a.Street != "" {
		lines = append(lines, a.Street)
	}
	if city := strings.TrimSpace(a.PostalCode + " " + a.Locality); city != "" {
		lines = append(lines, city)
	}
	if a.Country != "" {
		lines = append(lines, a.Country)
	}
	return strings.Join(lines, "\n")
}

// Gender as OpenID Connect Core §5.1 spells it.
type Gender string

const (
	GenderUnspecified Gender = ""
	GenderFemale      Gender = "female"
	GenderMale        Gender = "male"
)

// Languages Relais speaks, French first.
var Languages = []string{"fr", "en"}

// EmailKey is the form of an email address that must be unique: trimmed and
// lower-cased, so that Jean@Example.fr and jean@example.fr are one address.
func EmailKey(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Validate reports the first field that breaks a rule, wrapped in ErrInvalid.
func (p *Person) Validate() error {
	switch {
	case !IsID(p.ID):
		return invalid("id", RuleFormat)
	case strings.TrimSpace(p.GivenNames) == "":
		return invalid("given_names", RuleRequired)
	case strings.TrimSpace(p.FamilyName) == "":
		return invalid("family_name", RuleRequired)
	case p.BirthDate.IsZero():
		return invalid("birth_date", RuleRequired)
	case p.BirthDate.Hour() != 0 || p.BirthDate.Minute() != 0 || p.BirthDate.Second() != 0 || p.BirthDate.Nanosecond() != 0 || p.BirthDate.Location() != time.UTC:
		return invalid("birth_date", RuleFormat)
	case p.BirthPlace.Code != "" && !isINSECode(p.BirthPlace.Code):
		return invalid("birth_place", RuleFormat)
	case p.BirthCountry != "" && !isINSECode(p.BirthCountry):
		return invalid("birth_country", RuleFormat)
	case p.Gender != GenderUnspecified && p.Gender != GenderFemale && p.Gender != GenderMale:
		return invalid("gender", RuleUnknown)
	case p.Email != "" && !isEmail(p.Email):
		return invalid("email", RuleFormat)
	case p.Language != "" && p.Language != "fr" && p.Language != "en":
		return invalid("language", RuleUnknown)
	}
	for name, v := range map[string]string{"given_names": p.GivenNames, "family_name": p.FamilyName, "preferred_name": p.PreferredName, "phone": p.Phone,
		"address_street": p.Address.Street, "address_postal_code": p.Address.PostalCode, "address_locality": p.Address.Locality, "address_country": p.Address.Country} {
		if err := checkText(name, v, 200, false); err != nil {
			return err
		}
	}
	return nil
}

// Date returns the civil date y-m-d as Person.BirthDate holds it.
func Date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// isINSECode accepts the 5-character codes of the COG: digits, or 2A/2B for
// Corsica.
func isINSECode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i, c := range s {
		if c >= '0' && c <= '9' {
			continue
		}
		if i == 1 && (c == 'A' || c == 'B') && s[0] == '2' {
			continue
		}
		return false
	}
	return true
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// PersonStore keeps persons. Create refuses a taken id or email address with
// a *UniqueError; Update runs fn on the current record inside one transaction
// and saves what fn left, unless fn returns an error (then nothing changes).
type PersonStore interface {
	CreatePerson(ctx context.Context, p Person) error
	Person(ctx context.Context, id string) (Person, error)
	PersonByEmail(ctx context.Context, email string) (Person, error)
	UpdatePerson(ctx context.Context, id string, fn func(*Person) error) (Person, error)
}

// Transactor runs fn in one transaction: every store call made with the ctx
// that fn receives commits together, or none does when fn returns an error.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// ApplyUpdate is the part of PersonStore.UpdatePerson every store shares:
// it runs fn on a copy of old, refuses a changed id or an invalid result,
// and stamps the new version. Stores call it between their read and write.
func ApplyUpdate(old Person, fn func(*Person) error, now time.Time) (Person, error) {
	p, err := applyUpdate(old, keep, fn, func(a, b *Person) bool { return a.ID == b.ID }, "id", (*Person).Validate)
	if err != nil {
		return old, err
	}
	p.CreatedAt, p.UpdatedAt, p.Version = old.CreatedAt, stamp(now), old.Version+1
	return p, nil
}

type noRetryKey struct{}

// WithoutRetry marks ctx so that Transactor.InTx runs fn once, even when
// the store would retry a serialization failure: for callers whose fn
// cannot run twice (it hands its ctx to someone else, as authz does for
// fosite's Begin/Commit transactions).
func WithoutRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

// RetryAllowed says whether a store may run a transaction's fn again.
func RetryAllowed(ctx context.Context) bool {
	no, _ := ctx.Value(noRetryKey{}).(bool)
	return !no
}
