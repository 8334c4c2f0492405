package ui

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/mandates"
)

// apiPersonJSON is a person as /api/v1/persons gives it.
type apiPersonJSON struct {
	ID            string         `json:"id"`
	GivenNames    string         `json:"given_names"`
	FamilyName    string         `json:"family_name"`
	PreferredName string         `json:"preferred_name,omitempty"`
	BirthDate     string         `json:"birth_date"`
	BirthPlace    *apiPlaceJSON  `json:"birth_place,omitempty"`
	BirthCountry  string         `json:"birth_country,omitempty"`
	Gender        string         `json:"gender,omitempty"`
	Email         string         `json:"email,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	Address       apiAddressJSON `json:"address"`
	Language      string         `json:"language,omitempty"`
	// Activated: the person has set a password.
	Activated bool `json:"activated"`
	// LoginName is the identifiant written in the activation letter, in
	// the answers about one person.
	LoginName string    `json:"login_name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

type apiPlaceJSON struct {
	Code  string `json:"code"`
	Label string `json:"label,omitempty"`
}

// apiAddressJSON is a postal address as OpenID Connect Core §5.1.1 names
// its parts.
type apiAddressJSON struct {
	StreetAddress string `json:"street_address"`
	PostalCode    string `json:"postal_code"`
	Locality      string `json:"locality"`
	Country       string `json:"country,omitempty"`
}

func personJSON(p mandates.Person, loginName string) apiPersonJSON {
	out := apiPersonJSON{ID: p.ID, GivenNames: p.GivenNames, FamilyName: p.FamilyName, PreferredName: p.PreferredName,
		BirthDate: p.BirthDate.Format(time.DateOnly), BirthCountry: p.BirthCountry, Gender: string(p.Gender), Email: p.Email,
		Phone: p.Phone, Language: p.Language, Activated: p.PasswordHash != "", LoginName: loginName, CreatedAt: p.CreatedAt,
		Address: apiAddressJSON{StreetAddress: p.Address.Street, PostalCode: p.Address.PostalCode, Locality: p.Address.Locality, Country: p.Address.Country}}
	if p.BirthPlace.Code != "" || p.BirthPlace.Label != "" {
		out.BirthPlace = &apiPlaceJSON{Code: p.BirthPlace.Code, Label: p.BirthPlace.Label}
	}
	return out
}

// apiPersons is GET /api/v1/persons?name=&after=&limit=: the operators'
// list, by pages; "next" is the after of the next page.
func (s *deskPages) apiPersons(w http.ResponseWriter, r *http.Request) error {
	sess, err := (&apiPages{s.Server}).apiOperator(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit <= 0 {
			return badInput("limit", mandates.RuleFormat)
		}
	}
	list, next, err := s.mandates.Service.ListPersons(r.Context(), actor(sess), mandates.PersonQuery{Name: q.Get("name"), After: q.Get("after"), Limit: limit})
	if err != nil {
		return err
	}
	out := make([]apiPersonJSON, 0, len(list))
	for _, p := range list {
		out = append(out, personJSON(p, ""))
	}
	writeJSON(w, http.StatusOK, map[string]any{"persons": out, "next": next})
	return nil
}

// apiPerson is GET /api/v1/persons/{id}, for an operator.
func (s *deskPages) apiPerson(w http.ResponseWriter, r *http.Request) error {
	sess, err := (&apiPages{s.Server}).apiOperator(r)
	if err != nil {
		return err
	}
	p, err := s.mandates.Service.PersonForOperator(r.Context(), actor(sess), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	name, err := s.mandates.Accounts.Desk.LoginName(r.Context(), p.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personJSON(p, name))
	return nil
}

// apiAccountRequest is the body of POST /api/v1/persons.
type apiAccountRequest struct {
	GivenNames    string         `json:"given_names"`
	FamilyName    string         `json:"family_name"`
	PreferredName string         `json:"preferred_name"`
	BirthDate     string         `json:"birth_date"`
	BirthPlace    apiPlaceJSON   `json:"birth_place"`
	BirthCountry  string         `json:"birth_country"`
	Gender        string         `json:"gender"`
	Email         string         `json:"email"`
	Phone         string         `json:"phone"`
	Address       apiAddressJSON `json:"address"`
	Language      string         `json:"language"`
	// IdentityChecked: the operator checked an identity document.
	IdentityChecked bool `json:"identity_checked"`
	// Homonym: the operator checked that the person is not the one who
	// already has an account with the same identity.
	Homonym bool `json:"homonym"`
}

// apiOpenAccount is POST /api/v1/persons: an operator opens an account;
// the answer is the person with the login name, and the activation
// letter written. The same identity again is a 409 naming the accounts
// that have it (existing_ids).
func (s *deskPages) apiOpenAccount(w http.ResponseWriter, r *http.Request) error {
	sess, err := (&apiPages{s.Server}).apiOperator(r)
	if err != nil {
		return err
	}
	var req apiAccountRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	birth, err := parseDate("birth_date", req.BirthDate)
	if err != nil {
		return err
	}
	in := mandates.AccountInput{IdentityChecked: req.IdentityChecked, Homonym: req.Homonym, By: mandates.OpenedByAPI,
		Person: mandates.Person{GivenNames: req.GivenNames, FamilyName: req.FamilyName, PreferredName: req.PreferredName, BirthDate: birth,
			BirthPlace: mandates.Place{Code: req.BirthPlace.Code, Label: req.BirthPlace.Label}, BirthCountry: req.BirthCountry,
			Gender: mandates.Gender(req.Gender), Email: req.Email, Phone: req.Phone, Language: req.Language,
			Address: mandates.Address{Street: req.Address.StreetAddress, PostalCode: req.Address.PostalCode, Locality: req.Address.Locality, Country: req.Address.Country}}}
	o, err := s.mandates.Accounts.Desk.Open(r.Context(), actor(sess), in)
	var same *mandates.SamePersonError
	if errors.As(err, &same) {
		writeJSON(w, http.StatusConflict, map[string]any{"error": "already_exists",
			"error_description": "A person with the same identity already has an account: check it is not them, then send homonym: true.",
			"existing_ids":      same.IDs})
		return nil
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/persons/"+o.Person.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"person": personJSON(o.Person, o.LoginName),
		"activation_notice": map[string]string{"id": o.Letter.ID, "channel": string(o.Letter.Channel)}})
	return nil
}
