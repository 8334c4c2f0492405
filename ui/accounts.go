package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// Accounts is what the pages about accounts opened at a desk and their
// activation need (docs/accounts.md); cmd/relais wires it. When nil, the
// pages are absent.
type Accounts struct {
	Desk       *accounts.Desk
	Activation *accounts.Activation
	// ActivationFranceConnect is the link /activer offers to activate
	// with FranceConnect instead of a password; "" offers none.
	ActivationFranceConnect string
}

// deskPages are the forms that open an account (an operator's, an
// aidant's), the operator's page of a person, and the same as JSON.
type deskPages struct{ *Server }

const (
	operatorNewAccountPath = "/operateur/personnes/nouvelle"
	aidantNewAccountPath   = "/aidant/comptes/nouveau"
)

func operatorPersonPath(id string) string { return "/operateur/personnes/" + id }

func (s *deskPages) mountDesk(pages *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	pages.HandleFunc("/operateur/personnes", s.page(s.operatorPersons)).Methods(get...)
	pages.HandleFunc(operatorNewAccountPath, s.page(s.operatorNewAccount)).Methods(get...)
	pages.HandleFunc(operatorNewAccountPath, s.page(s.operatorOpenAccount)).Methods(http.MethodPost)
	pages.HandleFunc("/operateur/personnes/{id:[0-9a-f-]{36}}", s.page(s.operatorPersonPage)).Methods(get...)
	pages.HandleFunc("/operateur/personnes/{id:[0-9a-f-]{36}}/lettre-activation", s.page(s.operatorResendActivation)).Methods(http.MethodPost)
	pages.HandleFunc(aidantNewAccountPath, s.page(s.aidantNewAccount)).Methods(get...)
	pages.HandleFunc(aidantNewAccountPath, s.page(s.aidantOpenAccount)).Methods(http.MethodPost)
	pages.HandleFunc("/api/v1/persons", s.api(s.apiPersons)).Methods(http.MethodGet)
	pages.HandleFunc("/api/v1/persons", s.api(s.apiOpenAccount)).Methods(http.MethodPost)
	pages.HandleFunc("/api/v1/persons/{id}", s.api(s.apiPerson)).Methods(http.MethodGet)
}

// accountForm is the « Ouvrir un compte » form as typed.
type accountForm struct {
	GivenNames, FamilyName, PreferredName, Gender, BirthDate  string
	BirthPlace, BirthPlaceCode, BirthCountry                  string
	Street, PostalCode, Locality, Country, Email, Phone, Lang string
	IdentityChecked, Homonym                                  bool
}

func accountFormOf(v url.Values) accountForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := accountForm{GivenNames: g("given_names"), FamilyName: g("family_name"), PreferredName: g("preferred_name"), Gender: g("gender"),
		BirthDate: g("birth_date"), BirthPlace: g("birth_place"), BirthPlaceCode: strings.ToUpper(g("birth_place_code")), BirthCountry: g("birth_country"),
		Street: strings.TrimSpace(v.Get("address_street")), PostalCode: g("address_postal_code"), Locality: g("address_locality"),
		Country: g("address_country"), Email: g("email"), Phone: g("phone"), Lang: g("language"),
		IdentityChecked: v.Get("identity_checked") == "oui", Homonym: v.Get("homonym") == "oui"}
	if f.Lang == "" {
		f.Lang = "fr"
	}
	return f
}

// input is the domain's input from the form; a birth date that cannot be
// read is an InvalidError on it.
func (f accountForm) input(by string) (mandates.AccountInput, error) {
	birth, err := parseDate("birth_date", f.BirthDate)
	if err != nil {
		return mandates.AccountInput{}, err
	}
	return mandates.AccountInput{IdentityChecked: f.IdentityChecked, Homonym: f.Homonym, By: by,
		Person: mandates.Person{GivenNames: f.GivenNames, FamilyName: f.FamilyName, PreferredName: f.PreferredName,
			Gender: mandates.Gender(f.Gender), BirthDate: birth, BirthPlace: mandates.Place{Code: f.BirthPlaceCode, Label: f.BirthPlace},
			BirthCountry: f.BirthCountry, Email: f.Email, Phone: f.Phone, Language: f.Lang,
			Address: mandates.Address{Street: f.Street, PostalCode: f.PostalCode, Locality: f.Locality, Country: f.Country}}}, nil
}

// accountInputs are the form's inputs in page order (ids = the domain's
// field names, so an InvalidError names its input).
var accountInputs = []string{"identity_checked", "given_names", "family_name", "preferred_name", "gender-female", "birth_date",
	"birth_place", "birth_place_code", "birth_country", "address_street", "address_postal_code", "address_locality", "address_country",
	"email", "phone", "language-fr", "homonym"}

// samePerson is an account with the same identity, named to an operator.
type samePerson struct {
	ID, Name, Born string
}

type accountFormData struct {
	Form     accountForm
	Action   string
	Back     string // the page the form comes from
	Operator bool   // the homonym's confirmation is offered (after a refusal)
	Same     []samePerson
	SameSeen bool // the same identity was refused: the homonym's box is shown to an operator
	Errors   map[string]string
	Problems []problem
}

func (s *deskPages) accountFormPage(w http.ResponseWriter, r *http.Request, status int, d accountFormData) {
	s.render(w, r, status, "account_new", "accounts.new.title", d)
}

func (s *deskPages) operatorNewAccount(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.operatorOnly(r); err != nil {
		return err
	}
	s.accountFormPage(w, r, http.StatusOK, accountFormData{Form: accountFormOf(url.Values{}), Action: operatorNewAccountPath, Back: "/operateur", Operator: true})
	return nil
}

func (s *deskPages) operatorOpenAccount(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d := accountFormData{Form: accountFormOf(r.PostForm), Action: operatorNewAccountPath, Back: "/operateur", Operator: true}
	o, err := s.open(r, actor(sess), d.Form)
	if s.accountProblem(w, r, err, &d) {
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, operatorPersonPath(o.Person.ID)+"?fait=ouvert", http.StatusSeeOther)
	return nil
}

func (s *deskPages) open(r *http.Request, a mandates.Actor, f accountForm) (accounts.Opened, error) {
	in, err := f.input(mandates.OpenedAtDesk)
	if err != nil {
		return accounts.Opened{}, err
	}
	return s.mandates.Accounts.Desk.Open(r.Context(), a, in)
}

// accountProblem shows the form again with what to correct, for the
// failures a person can correct; false for the others.
func (s *deskPages) accountProblem(w http.ResponseWriter, r *http.Request, err error, d *accountFormData) bool {
	if err == nil {
		return false
	}
	p := s.formProblems(r, accountInputs...)
	var same *mandates.SamePersonError
	var unique *mandates.UniqueError
	inv := invalidOf(err)
	switch {
	case errors.As(err, &same):
		d.SameSeen = true
		lang := requestLang(r)
		for _, id := range same.IDs {
			o, err := s.mandates.Service.Person(r.Context(), id)
			if err != nil {
				return false
			}
			d.Same = append(d.Same, samePerson{ID: o.ID, Name: mandates.DisplayName(o), Born: locales.FormatDate(o.BirthDate, lang)})
		}
		if d.Operator {
			p.add("homonym", "accounts.error.same_operator")
		} else {
			p.add("family_name", "accounts.error.same_aidant")
		}
	case errors.As(err, &unique) && unique.Field == "email":
		p.add("email", "accounts.error.email_taken")
	case inv != nil:
		id := inv.Field
		switch id {
		case "gender":
			id = "gender-female"
		case "language":
			id = "language-fr"
		case "address_street", "address_postal_code", "address_locality", "address_country", "given_names", "family_name", "preferred_name",
			"birth_date", "birth_place", "birth_place_code", "birth_country", "email", "phone", "identity_checked", "homonym":
		default:
			return false
		}
		msg := "accounts.error." + inv.Field
		if inv.Rule == mandates.RuleTooLong {
			msg = "accounts.error.too_long"
		}
		p.add(id, msg)
	default:
		return false
	}
	d.Problems = p.list()
	d.Errors = p.byID
	s.accountFormPage(w, r, http.StatusBadRequest, *d)
	return true
}

type operatorPersonData struct {
	Person      mandates.Person
	Name, Born  string
	Address     []string
	LoginName   string
	Activated   bool
	Opened      bool // just opened: the letter is on its way
	Resent      bool // a new letter was just written
	Language    string
	Problems    []problem
	NoticesLink bool
}

func (s *deskPages) operatorPersonData(r *http.Request, op mandates.Actor, id string) (operatorPersonData, error) {
	p, err := s.mandates.Service.PersonForOperator(r.Context(), op, id)
	if err != nil {
		return operatorPersonData{}, err
	}
	name, err := s.mandates.Accounts.Desk.LoginName(r.Context(), p.ID)
	if err != nil {
		return operatorPersonData{}, err
	}
	lang := requestLang(r)
	d := operatorPersonData{Person: p, Name: mandates.DisplayName(p), Born: locales.FormatDate(p.BirthDate, lang), LoginName: name,
		Activated: p.PasswordHash != "", NoticesLink: s.mandates.Notices != nil}
	if a := p.Address.Formatted(); a != "" {
		d.Address = strings.Split(a, "\n")
	}
	d.Language = translate(s.localizer(r), "accounts.language."+p.Language)
	return d, nil
}

func (s *deskPages) operatorPersonPage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	d, err := s.operatorPersonData(r, actor(sess), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	d.Opened, d.Resent = r.URL.Query().Get("fait") == "ouvert", r.URL.Query().Get("fait") == "lettre"
	s.render(w, r, http.StatusOK, "account_person", "accounts.person.title", d)
	return nil
}

func (s *deskPages) operatorResendActivation(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	_, err = s.mandates.Accounts.Desk.Resend(r.Context(), actor(sess), id)
	if errors.Is(err, accounts.ErrAlreadyActive) {
		d, derr := s.operatorPersonData(r, actor(sess), id)
		if derr != nil {
			return derr
		}
		d.Problems = []problem{{Text: translate(s.localizer(r), "accounts.person.already_active")}}
		s.render(w, r, http.StatusConflict, "account_person", "accounts.person.title", d)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, operatorPersonPath(id)+"?fait=lettre", http.StatusSeeOther)
	return nil
}

// aidantMayOpen is the aidant's session, for the forms that open an
// account: with the second factor (else its page), and an aidant (else
// the 404 page: the page does not exist for them).
func (s *deskPages) aidantMayOpen(r *http.Request) (authn.BrowserSession, error) {
	sess, err := (&aidantPages{&personPages{s.Server}}).aidantSession(r)
	if err != nil {
		return sess, err
	}
	if err := s.mandates.Service.MayOpenAccounts(r.Context(), actor(sess)); err != nil {
		if errors.Is(err, mandates.ErrSecondFactor) {
			return sess, errAidantSecondFactor
		}
		return sess, statusError(http.StatusNotFound)
	}
	return sess, nil
}

func (s *deskPages) aidantNewAccount(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.aidantMayOpen(r); err != nil {
		return err
	}
	s.accountFormPage(w, r, http.StatusOK, accountFormData{Form: accountFormOf(url.Values{}), Action: aidantNewAccountPath, Back: aidantPath})
	return nil
}

type accountOpenedData struct {
	Name, LoginName string
	Paper           bool
}

func (s *deskPages) aidantOpenAccount(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.aidantMayOpen(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d := accountFormData{Form: accountFormOf(r.PostForm), Action: aidantNewAccountPath, Back: aidantPath}
	d.Form.Homonym = false // an aidant may not confirm a homonym; the form has no such box
	o, err := s.open(r, actor(sess), d.Form)
	if s.accountProblem(w, r, err, &d) {
		return nil
	}
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusCreated, "account_opened", "accounts.opened.title",
		accountOpenedData{Name: mandates.DisplayName(o.Person), LoginName: o.LoginName, Paper: o.Letter.Channel == "paper"})
	return nil
}

type operatorPersonsData struct {
	Name    string
	Persons []samePerson
	Next    string // the link to the next page; "" on the last
}

// operatorPersons is the operators' list of persons, by name, a page at a
// time: the way to a person's page (a new activation letter).
func (s *deskPages) operatorPersons(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := operatorPersonsData{Name: strings.TrimSpace(q.Get("nom"))}
	list, next, err := s.mandates.Service.ListPersons(r.Context(), actor(sess), mandates.PersonQuery{Name: d.Name, After: q.Get("apres"), Limit: 50})
	if err != nil {
		return err
	}
	lang := requestLang(r)
	for _, p := range list {
		d.Persons = append(d.Persons, samePerson{ID: p.ID, Name: p.GivenNames + " " + p.FamilyName, Born: locales.FormatDate(p.BirthDate, lang)})
	}
	if next != "" {
		d.Next = "/operateur/personnes?" + url.Values{"nom": {d.Name}, "apres": {next}}.Encode()
	}
	s.render(w, r, http.StatusOK, "account_list", "accounts.list.title", d)
	return nil
}
