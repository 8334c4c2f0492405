package ui

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/importcsv"
)

// importPages is the JSON API's bulk import of court measures, for
// operators: the same file, rules and report as relais measures import
// (docs/accounts.md, « Importing measures »).
type importPages struct{ *Server }

func (s *importPages) mountImport(pages *mux.Router) {
	pages.HandleFunc("/api/v1/measures/import", s.api(s.apiImportMeasures)).Methods(http.MethodPost)
}

// importLineJSON is what became of one good line.
type importLineJSON struct {
	Line          int                    `json:"line"`
	Outcome       mandates.ImportOutcome `json:"outcome"` // new_measure or already_registered
	PersonID      string                 `json:"person_id"`
	AccountOpened bool                   `json:"account_opened"`
}

// importProblemJSON is one problem of a line, in words in French and in
// English, with its codes.
type importProblemJSON struct {
	Line          int           `json:"line"`
	Column        string        `json:"column,omitempty"`
	Field         string        `json:"field"`
	Rule          mandates.Rule `json:"rule"`
	Description   string        `json:"description"`
	DescriptionEN string        `json:"description_en"`
}

type importReportJSON struct {
	Error              string              `json:"error,omitempty"`
	ErrorDescription   string              `json:"error_description,omitempty"`
	DryRun             bool                `json:"dry_run"`
	Written            bool                `json:"written"`
	MeasuresRegistered int                 `json:"measures_registered"`
	AccountsOpened     int                 `json:"accounts_opened"`
	AlreadyRegistered  int                 `json:"already_registered"`
	Lines              []importLineJSON    `json:"lines"`
	Problems           []importProblemJSON `json:"problems"`
}

// apiImportMeasures takes the file as the body (Content-Type text/csv),
// and ?dry_run=true to see what it would do. A file with a wrong line is
// a 400 that lists every problem, and the good lines, and writes nothing.
func (s *importPages) apiImportMeasures(w http.ResponseWriter, r *http.Request) error {
	sess, err := (&apiPages{s.Server}).apiOperator(r)
	if err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/csv" {
		return &jsonProblem{http.StatusUnsupportedMediaType, "unsupported_media_type", "Envoyez le fichier CSV tel quel, avec l’en-tête Content-Type: text/csv."}
	}
	dryRun := false
	switch r.URL.Query().Get("dry_run") {
	case "", "false":
	case "true":
		dryRun = true
	default:
		return &jsonProblem{http.StatusBadRequest, "invalid_request", "dry_run vaut true ou false."}
	}
	body, err := io.ReadAll(r.Body)
	if IsTooLarge(err) {
		return &jsonProblem{http.StatusRequestEntityTooLarge, "request_too_large", "Le fichier est trop gros : coupez-le en plusieurs fichiers."}
	}
	if err != nil {
		return &jsonProblem{http.StatusBadRequest, "invalid_request", "Le fichier n’a pas pu être lu en entier."}
	}
	rep, err := importcsv.Import(r.Context(), s.mandates.Service, actor(sess), bytes.NewReader(body), dryRun)
	if err != nil {
		return err
	}
	out := importReportJSON{DryRun: rep.DryRun, Written: rep.Written, MeasuresRegistered: rep.MeasuresCreated, AccountsOpened: rep.PersonsCreated,
		AlreadyRegistered: rep.AlreadyRegistered, Lines: []importLineJSON{}, Problems: []importProblemJSON{}}
	for _, l := range rep.Results {
		out.Lines = append(out.Lines, importLineJSON{Line: l.Line, Outcome: l.Outcome, PersonID: l.PersonID, AccountOpened: l.PersonCreated})
	}
	for _, p := range rep.Problems {
		col := importcsv.Column(p)
		words := locales.ImportProblem(p.Line, col, p.Field, p.Rule, p.Limit)
		out.Problems = append(out.Problems, importProblemJSON{Line: p.Line, Column: col, Field: p.Field, Rule: p.Rule, Description: words.FR, DescriptionEN: words.EN})
	}
	if len(out.Problems) > 0 {
		out.Error = "invalid_request"
		errs := fmt.Sprintf("%d erreurs", len(out.Problems))
		if len(out.Problems) == 1 {
			errs = "1 erreur"
		}
		out.ErrorDescription = "Le fichier a " + errs + " : rien n’a été importé. Corrigez les lignes indiquées, puis envoyez de nouveau tout le fichier."
		writeJSON(w, http.StatusBadRequest, out)
		return nil
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
