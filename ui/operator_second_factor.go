package ui

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/mandates"
)

// secondFactorResetPages: an operator removes the second factor a person
// lost, after checking an identity document at a desk (docs/accounts.md,
// « Recovery »). The rule is mandates.Service.SecondFactorResetAccess, the
// work accounts.SecondFactorReset's.
type secondFactorResetPages struct{ *Server }

func secondFactorResetPath(personID string) string {
	return "/operateur/personnes/" + personID + "/code-de-securite"
}

func (s *secondFactorResetPages) mountSecondFactorReset(pages *mux.Router) {
	pages.HandleFunc("/operateur/personnes/{id}/code-de-securite", s.page(s.resetPage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/personnes/{id}/code-de-securite", s.page(s.resetForm)).Methods(http.MethodPost)
	pages.HandleFunc("/api/v1/persons/{id}/second-factor/reset", s.api(s.apiReset)).Methods(http.MethodPost)
}

type secondFactorResetData struct {
	PersonID, PersonName string
	Enrolled             bool // the person has a second factor to remove
	Done                 bool
	Checked              bool
	Document             string
	Documents            []string
	Problems             []problem
}

// data reads the person and whether they have a second factor; only for
// an operator (operatorOnly), unknown persons are not found.
func (s *secondFactorResetPages) data(r *http.Request, personID string) (secondFactorResetData, error) {
	d := secondFactorResetData{PersonID: personID}
	for _, k := range mandates.IdentityDocuments {
		d.Documents = append(d.Documents, string(k))
	}
	if !mandates.IsID(personID) {
		return d, statusError(http.StatusNotFound)
	}
	p, err := s.mandates.Service.Person(r.Context(), personID)
	if err != nil {
		return d, err
	}
	d.PersonName = mandates.DisplayName(p)
	if s.oidc.TOTP != nil {
		if d.Enrolled, err = s.oidc.TOTP.Active(r.Context(), personID); err != nil {
			return d, err
		}
	}
	return d, nil
}

func (s *secondFactorResetPages) resetPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.operatorOnly(r); err != nil {
		return err
	}
	d, err := s.data(r, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	d.Done = r.URL.Query().Get("fait") == "retire"
	s.render(w, r, http.StatusOK, "operator_second_factor", "secondfactor.op.title", d)
	return nil
}

func (s *secondFactorResetPages) resetForm(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	personID := mux.Vars(r)["id"]
	d, err := s.data(r, personID)
	if err != nil {
		return err
	}
	d.Checked, d.Document = r.PostForm.Get("identity_checked") == "oui", r.PostForm.Get("document")
	check := mandates.IdentityCheck{Checked: d.Checked, Document: mandates.IdentityDocument(d.Document)}
	err = s.mandates.SecondFactors.Reset(r.Context(), actor(sess), personID, check)
	var inv *mandates.InvalidError
	switch {
	case errors.As(err, &inv) && (inv.Field == "identity_checked" || inv.Field == "document"):
		p := s.formProblems(r, "identity_checked", "document")
		p.add(inv.Field, "secondfactor.op."+inv.Field+"_"+string(inv.Rule))
		d.Problems = p.list()
		s.render(w, r, http.StatusBadRequest, "operator_second_factor", "secondfactor.op.title", d)
		return nil
	case errors.Is(err, mandates.ErrNoSecondFactor):
		d.Enrolled = false
		s.render(w, r, http.StatusConflict, "operator_second_factor", "secondfactor.op.title", d)
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(r.Context(), "second factor reset", "person_id", personID, "operator_id", sess.PersonID)
	http.Redirect(w, r, secondFactorResetPath(personID)+"?fait=retire", http.StatusSeeOther)
	return nil
}

// secondFactorResetJSON is the body of the API's reset: what the operator
// checked.
type secondFactorResetJSON struct {
	IdentityChecked bool   `json:"identity_checked"`
	Document        string `json:"document"`
}

func (s *secondFactorResetPages) apiReset(w http.ResponseWriter, r *http.Request) error {
	sess, err := (&apiPages{s.Server}).apiOperator(r)
	if err != nil {
		return err
	}
	var in secondFactorResetJSON
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	personID := mux.Vars(r)["id"]
	err = s.mandates.SecondFactors.Reset(r.Context(), actor(sess), personID,
		mandates.IdentityCheck{Checked: in.IdentityChecked, Document: mandates.IdentityDocument(in.Document)})
	if errors.Is(err, mandates.ErrNoSecondFactor) {
		return &jsonProblem{http.StatusConflict, "second_factor_not_enrolled", "This person has no second factor to remove."}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"person_id": personID, "second_factor": "removed"})
	return nil
}
