package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// apiPages are the JSON API's handlers.
type apiPages struct{ *Server }

// The JSON API for back-office integration: the operations of the
// operator's and the organisation administrator's pages, with the same
// session cookie and the same cross-origin check (it is mounted on the
// pages router). Errors have the shape of RFC 6749 §5.2; dates are written
// "YYYY-MM-DD" on the way in, instants RFC 3339 in UTC on the way out.
func (s *apiPages) mountAPI(pages *mux.Router) {
	api := pages.PathPrefix("/api/v1").Subrouter()
	api.HandleFunc("/measures", s.api(s.apiSearchMeasures)).Methods(http.MethodGet)
	api.HandleFunc("/measures", s.api(s.apiRegisterMeasure)).Methods(http.MethodPost)
	api.HandleFunc("/representations/{id}", s.api(s.apiRepresentation)).Methods(http.MethodGet)
	api.HandleFunc("/representations/{id}", s.api(s.apiEditMeasure)).Methods(http.MethodPatch)
	api.HandleFunc("/representations/{id}/{action:activate|suspend|resume|end}", s.api(s.apiMeasureStatus)).Methods(http.MethodPost)
	api.HandleFunc("/representations/{id}/delegates", s.api(s.apiSetDelegates)).Methods(http.MethodPut)
	api.HandleFunc("/organisations", s.api(s.apiOrganisations)).Methods(http.MethodGet)
	api.HandleFunc("/organisations", s.api(s.apiCreateOrganisation)).Methods(http.MethodPost)
	api.HandleFunc("/organisations/{id}", s.api(s.apiOrganisation)).Methods(http.MethodGet)
	api.HandleFunc("/organisations/{id}/members", s.api(s.apiMembers)).Methods(http.MethodGet)
	api.HandleFunc("/organisations/{id}/members", s.api(s.apiHabilitate)).Methods(http.MethodPost)
	api.HandleFunc("/organisations/{id}/members/{person_id}", s.api(s.apiWithdrawMember)).Methods(http.MethodDelete)
	api.HandleFunc("/organisations/{id}/mandates", s.api(s.apiOrgMandates)).Methods(http.MethodGet)
}

// apiRepresentation is the JSON shape of a representation, the one every
// endpoint that returns representations uses.
type apiRepresentation struct {
	ID             string                `json:"id"`
	Kind           mandates.Kind         `json:"kind"`
	PersonID       string                `json:"person_id"`
	Representative apiRepresentative     `json:"representative"`
	Role           mandates.Role         `json:"role"`
	ProcedureAreas []mandates.Area       `json:"procedure_areas"` // empty: every area
	Granted        []mandates.Action     `json:"granted"`
	Adjustments    []mandates.Adjustment `json:"adjustments"`
	ValidFrom      time.Time             `json:"valid_from"`
	ValidUntil     time.Time             `json:"valid_until,omitzero"`
	// Status is the effective status now (expiry applied by the clock);
	// StoredStatus is the one recorded.
	Status       mandates.Status `json:"status"`
	StoredStatus mandates.Status `json:"stored_status"`
	Source       mandates.Source `json:"source"`
	Version      int64           `json:"version"`
	History      []apiChange     `json:"history,omitempty"` // only when one representation is read
}

type apiRepresentative struct {
	PersonID       string   `json:"person_id,omitempty"`
	OrganisationID string   `json:"organisation_id,omitempty"`
	Delegates      []string `json:"delegates"`
}

type apiChange struct {
	Seq            int64              `json:"seq"`
	At             time.Time          `json:"at"`
	ActorID        string             `json:"actor_id,omitempty"`
	OrganisationID string             `json:"organisation_id,omitempty"`
	Type           mandates.EventType `json:"type"`
	From           mandates.Status    `json:"from,omitempty"`
	To             mandates.Status    `json:"to,omitempty"`
	Detail         map[string]string  `json:"detail,omitempty"`
}

// representationJSON turns a representation into its JSON shape, its
// status as it is at now.
func representationJSON(r *mandates.Representation, now time.Time) apiRepresentation {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	out := apiRepresentation{ID: r.ID, Kind: r.Kind, PersonID: r.PersonID, Role: r.Role,
		Representative: apiRepresentative{PersonID: r.Representative.PersonID, OrganisationID: r.Representative.OrganisationID,
			Delegates: nonNil(r.Representative.Delegates)},
		ProcedureAreas: r.Areas, Granted: r.Granted, Adjustments: r.Adjustments,
		ValidFrom: r.ValidFrom.UTC(), ValidUntil: r.ValidUntil.UTC(), Status: r.EffectiveStatus(now), StoredStatus: r.Status,
		Source: r.Source, Version: r.Version}
	if out.ProcedureAreas == nil {
		out.ProcedureAreas = []mandates.Area{}
	}
	if out.Granted == nil {
		out.Granted = []mandates.Action{}
	}
	if out.Adjustments == nil {
		out.Adjustments = []mandates.Adjustment{}
	}
	for _, c := range r.History {
		out.History = append(out.History, apiChange{Seq: c.Seq, At: c.At.UTC(), ActorID: c.ActorID, OrganisationID: c.OrganisationID,
			Type: c.Type, From: c.From, To: c.To, Detail: c.Detail})
	}
	return out
}

func representationsJSON(reps []mandates.Representation, now time.Time) []apiRepresentation {
	out := make([]apiRepresentation, 0, len(reps))
	for i := range reps {
		out = append(out, representationJSON(&reps[i], now))
	}
	return out
}

func viewsJSON(views []mandates.View, now time.Time) []apiRepresentation {
	out := make([]apiRepresentation, 0, len(views))
	for i := range views {
		out = append(out, representationJSON(&views[i].Representation, now))
	}
	return out
}

type apiOrganisation struct {
	ID             string                    `json:"id"`
	Name           string                    `json:"name"`
	Kind           mandates.OrganisationKind `json:"kind"`
	ProcedureAreas []mandates.Area           `json:"procedure_areas"` // empty: every area
	SIRET          string                    `json:"siret,omitempty"`
	CreatedBy      string                    `json:"created_by,omitempty"`
	CreatedAt      time.Time                 `json:"created_at,omitzero"`
	Version        int64                     `json:"version"`
	apiOrgAddress                            // its postal address; empty strings for one recorded before addresses
}

func organisationJSON(o mandates.Organisation) apiOrganisation {
	areas := o.Areas
	if areas == nil {
		areas = []mandates.Area{}
	}
	return apiOrganisation{ID: o.ID, Name: o.Name, Kind: o.Kind, ProcedureAreas: areas, apiOrgAddress: orgAddressJSON(o.Address),
		SIRET: o.SIRET, CreatedBy: o.CreatedBy, CreatedAt: o.CreatedAt.UTC(), Version: o.Version}
}

type apiMember struct {
	OrganisationID string              `json:"organisation_id"`
	PersonID       string              `json:"person_id"`
	Name           string              `json:"name,omitempty"`
	Email          string              `json:"email,omitempty"`
	Role           mandates.MemberRole `json:"role"`
	Active         bool                `json:"active"`
	HabilitatedBy  string              `json:"habilitated_by,omitempty"`
	HabilitatedAt  time.Time           `json:"habilitated_at,omitzero"`
	WithdrawnBy    string              `json:"withdrawn_by,omitempty"`
	WithdrawnAt    time.Time           `json:"withdrawn_at,omitzero"`
}

func memberJSON(m mandates.Membership, name, email string) apiMember {
	return apiMember{OrganisationID: m.OrganisationID, PersonID: m.PersonID, Name: name, Email: email, Role: m.Role, Active: m.Active,
		HabilitatedBy: m.HabilitatedBy, HabilitatedAt: m.HabilitatedAt.UTC(), WithdrawnBy: m.WithdrawnBy, WithdrawnAt: m.WithdrawnAt.UTC()}
}

// badInput is a bad input found before the domain sees it, typed as the
// domain types its own, so pages and the API read it the same way.
func badInput(field string, rule mandates.Rule) error {
	return &mandates.InvalidError{Field: field, Rule: rule}
}

// invalidOf is the *mandates.InvalidError err carries, nil for another
// error.
func invalidOf(err error) *mandates.InvalidError {
	var inv *mandates.InvalidError
	if errors.As(err, &inv) {
		return inv
	}
	return nil
}

// invalidField is the field an InvalidError names, "" for another error.
func invalidField(err error) string {
	if inv := invalidOf(err); inv != nil {
		return inv.Field
	}
	return ""
}

// parseDate reads a date written YYYY-MM-DD, and nothing else, as midnight
// UTC; an empty value is the zero time.
func parseDate(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil || len(v) != len(time.DateOnly) {
		return time.Time{}, badInput(field, mandates.RuleFormat)
	}
	return t, nil
}

// personID resolves a person named by id or by email address; an unknown
// email is a bad input of field, never a 404.
func (s *apiPages) personID(ctx context.Context, field, id, email string) (string, error) {
	id, email = strings.TrimSpace(id), strings.TrimSpace(email)
	switch {
	case id != "" && email != "":
		return "", badInput(field, mandates.RuleBoth)
	case email != "":
		p, err := s.mandates.Service.PersonByEmail(ctx, email)
		if errors.Is(err, mandates.ErrNotFound) {
			return "", badInput(field, mandates.RuleUnknown)
		}
		if err != nil {
			return "", err
		}
		return p.ID, nil
	}
	return id, nil
}

// apiSession is the signed-in person, or a 401 whatever the Accept header
// says: the API never redirects to the login page.
func (s *apiPages) apiSession(r *http.Request) (authn.BrowserSession, error) {
	sess, ok := CurrentSession(r.Context())
	if !ok {
		return sess, &jsonProblem{http.StatusUnauthorized, "login_required", "Sign in to Relais first."}
	}
	return sess, nil
}

// apiOperator is the signed-in operator, or a 401 or 403.
func (s *apiPages) apiOperator(r *http.Request) (authn.BrowserSession, error) {
	sess, err := s.apiSession(r)
	if err != nil {
		return sess, err
	}
	isOp, err := s.mandates.Service.IsOperator(r.Context(), sess.PersonID)
	if err != nil {
		return sess, err
	}
	if !isOp {
		return sess, &jsonProblem{http.StatusForbidden, "access_denied", "Only an operator may do this."}
	}
	return sess, nil
}

// decodeJSON reads one JSON value of exactly the expected fields; a
// malformed body is a 400, a body over the limit a 413.
func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err == nil {
		err = dec.Decode(v)
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("the body holds more than one JSON value")
		}
	}
	if err == nil {
		return nil
	}
	if IsTooLarge(err) {
		return &jsonProblem{http.StatusRequestEntityTooLarge, "request_too_large", "The body is too large."}
	}
	desc := "The body is not valid JSON of the expected shape."
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		desc = fmt.Sprintf("The field %s has the wrong type.", typeErr.Field)
	default:
		// encoding/json names an unknown member only in its text: find it
		// from the body and the type instead.
		if name := unknownMember(body, reflect.TypeOf(v)); name != "" {
			desc = fmt.Sprintf("The body has an unknown field %q.", name)
		}
	}
	return &jsonProblem{http.StatusBadRequest, "invalid_request", desc}
}

func (s *apiPages) apiSearchMeasures(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	views, err := s.mandates.Service.SearchMeasures(r.Context(), actor(sess), r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"measures": viewsJSON(views, s.now())})
	return nil
}

type apiMeasureBody struct {
	Kind            mandates.Kind         `json:"kind"`
	PersonID        string                `json:"person_id"`
	PersonEmail     string                `json:"person_email"`
	Representatives []apiRepresentativeIn `json:"representatives"`
	ProcedureAreas  []mandates.Area       `json:"procedure_areas"`
	Adjustments     []mandates.Adjustment `json:"adjustments"`
	ValidFrom       string                `json:"valid_from"`
	ValidUntil      string                `json:"valid_until"`
	Decision        struct {
		Jurisdiction string `json:"jurisdiction"`
		Date         string `json:"date"`
		Reference    string `json:"reference"`
		Renewal      bool   `json:"renewal"`
	} `json:"decision"`
}

type apiRepresentativeIn struct {
	PersonID       string          `json:"person_id"`
	PersonEmail    string          `json:"person_email"`
	OrganisationID string          `json:"organisation_id"`
	Role           mandates.Role   `json:"role"`
	Delegates      []string        `json:"delegates"`
	ProcedureAreas []mandates.Area `json:"procedure_areas"`
}

// measureInput checks the body's dates and resolves the emails it names.
func (s *apiPages) measureInput(ctx context.Context, b apiMeasureBody) (mandates.MeasureInput, error) {
	in := mandates.MeasureInput{Kind: b.Kind, Areas: b.ProcedureAreas, Adjustments: b.Adjustments,
		Decision: mandates.CourtDecision{Jurisdiction: b.Decision.Jurisdiction, Reference: b.Decision.Reference, Renewal: b.Decision.Renewal}}
	var err error
	if in.ValidFrom, err = parseDate("valid_from", b.ValidFrom); err != nil {
		return in, err
	}
	if in.ValidUntil, err = parseDate("valid_until", b.ValidUntil); err != nil {
		return in, err
	}
	if in.Decision.Date, err = parseDate("decision_date", b.Decision.Date); err != nil {
		return in, err
	}
	if in.PersonID, err = s.personID(ctx, "person", b.PersonID, b.PersonEmail); err != nil {
		return in, err
	}
	for i, ri := range b.Representatives {
		field := fmt.Sprintf("representatives[%d]", i)
		id, err := s.personID(ctx, field, ri.PersonID, ri.PersonEmail)
		if err != nil {
			return in, err
		}
		in.Representatives = append(in.Representatives, mandates.RepresentativeInput{PersonID: id, OrganisationID: strings.TrimSpace(ri.OrganisationID),
			Delegates: ri.Delegates, Role: ri.Role, Areas: ri.ProcedureAreas})
	}
	return in, nil
}

func (s *apiPages) apiRegisterMeasure(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiOperator(r)
	if err != nil {
		return err
	}
	var b apiMeasureBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	in, err := s.measureInput(r.Context(), b)
	if err != nil {
		return err
	}
	reps, err := s.mandates.Service.RegisterMeasure(r.Context(), actor(sess), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/representations/"+reps[0].ID)
	writeJSON(w, http.StatusCreated, map[string]any{"representations": representationsJSON(reps, s.now())})
	return nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// writeRepresentation answers with one representation and its version as
// the ETag.
func (s *apiPages) writeRepresentation(w http.ResponseWriter, code int, rep mandates.Representation) {
	w.Header().Set("ETag", etag(rep.Version))
	writeJSON(w, code, representationJSON(&rep, s.now()))
}

func (s *apiPages) apiRepresentation(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	rep, err := s.mandates.Service.Representation(r.Context(), sess.PersonID, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	s.writeRepresentation(w, http.StatusOK, rep)
	return nil
}

// apiEditBody is a correction of a measure: fields left out keep their
// value; the reason is required. A representative named by email or by
// id replaces the one registered, as an organisation does; role alone
// changes the role.
type apiEditBody struct {
	Version        int64                  `json:"version"`
	Reason         string                 `json:"reason"`
	ValidFrom      *string                `json:"valid_from"`
	ValidUntil     *string                `json:"valid_until"`
	ProcedureAreas *[]mandates.Area       `json:"procedure_areas"`
	Adjustments    *[]mandates.Adjustment `json:"adjustments"`
	Representative *apiRepresentativeEdit `json:"representative"`
	Role           *mandates.Role         `json:"role"`
	Decision       *apiDecisionEdit       `json:"decision"`
}

// apiRepresentativeEdit names the representative the decision really
// names: a person by id or email, or an organisation, and their role
// (left out: the role stays).
type apiRepresentativeEdit struct {
	PersonID       string        `json:"person_id"`
	PersonEmail    string        `json:"person_email"`
	OrganisationID string        `json:"organisation_id"`
	Role           mandates.Role `json:"role"`
}

// apiDecisionEdit is a correction of the decision's own fields, each left
// out keeping its value.
type apiDecisionEdit struct {
	Jurisdiction *string `json:"jurisdiction"`
	Date         *string `json:"date"`
	Reference    *string `json:"reference"`
	Renewal      *bool   `json:"renewal"`
}

func requireVersion(v int64) error {
	if v <= 0 {
		return badInput("version", mandates.RuleRequired)
	}
	return nil
}

// correction is the body laid over the record.
func (s *apiPages) correction(ctx context.Context, cur *mandates.Representation, b apiEditBody) (mandates.MeasureCorrection, error) {
	c := mandates.CorrectionOf(cur)
	c.Reason = strings.TrimSpace(b.Reason)
	type dateIn struct {
		field string
		v     *string
		into  *time.Time
	}
	dates := []dateIn{{"valid_from", b.ValidFrom, &c.ValidFrom}, {"valid_until", b.ValidUntil, &c.ValidUntil}}
	if d := b.Decision; d != nil {
		dates = append(dates, dateIn{"decision_date", d.Date, &c.Decision.Date})
		if d.Jurisdiction != nil {
			c.Decision.Jurisdiction = *d.Jurisdiction
		}
		if d.Reference != nil {
			c.Decision.Reference = *d.Reference
		}
		if d.Renewal != nil {
			c.Decision.Renewal = *d.Renewal
		}
	}
	for _, d := range dates {
		if d.v != nil {
			var err error
			if *d.into, err = parseDate(d.field, *d.v); err != nil {
				return c, err
			}
		}
	}
	if b.ProcedureAreas != nil {
		c.Areas = *b.ProcedureAreas
	}
	if b.Adjustments != nil {
		c.Adjustments = *b.Adjustments
	}
	if ri := b.Representative; ri != nil {
		id, err := s.personID(ctx, "representative", ri.PersonID, ri.PersonEmail)
		if err != nil {
			return c, err
		}
		c.Representative.PersonID, c.Representative.OrganisationID = id, strings.TrimSpace(ri.OrganisationID)
		if ri.Role != "" {
			c.Representative.Role = ri.Role
		}
	}
	if b.Role != nil {
		c.Representative.Role = *b.Role
	}
	return c, nil
}

// apiEditMeasure corrects a measure (mandates.CorrectMeasure). The answer
// is the corrected representation: when the representative changed, the
// one that replaces the representation of the path, named in Location.
func (s *apiPages) apiEditMeasure(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiOperator(r)
	if err != nil {
		return err
	}
	var b apiEditBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	ctx, id := r.Context(), mux.Vars(r)["id"]
	if err := requireVersion(b.Version); err != nil {
		return err
	}
	cur, err := s.mandates.Service.Representation(ctx, sess.PersonID, id)
	if err != nil {
		return err
	}
	c, err := s.correction(ctx, &cur, b)
	if err != nil {
		return err
	}
	rep, err := s.mandates.Service.CorrectMeasure(ctx, actor(sess), id, b.Version, c)
	if err != nil {
		return err
	}
	if rep.ID != id {
		w.Header().Set("Location", "/api/v1/representations/"+rep.ID)
	}
	s.writeRepresentation(w, http.StatusOK, rep)
	return nil
}

type apiStatusBody struct {
	Version int64  `json:"version"`
	Reason  string `json:"reason"` // kept in the history of a pause or an end
}

func (s *apiPages) apiMeasureStatus(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiOperator(r)
	if err != nil {
		return err
	}
	var b apiStatusBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	if err := requireVersion(b.Version); err != nil {
		return err
	}
	rep, err := s.statusChange(r.Context(), actor(sess), mux.Vars(r)["action"], mux.Vars(r)["id"], b.Version, b.Reason)
	if err != nil {
		return err
	}
	s.writeRepresentation(w, http.StatusOK, rep)
	return nil
}

// statusChange runs one of the operator's status changes by its name.
func (s *Server) statusChange(ctx context.Context, op mandates.Actor, action, id string, version int64, reason string) (mandates.Representation, error) {
	svc := s.mandates.Service
	reason = strings.TrimSpace(reason)
	if err := mandates.CheckReason(reason); err != nil {
		return mandates.Representation{}, err
	}
	switch action {
	case "activate":
		return svc.ActivateMeasure(ctx, op, id, version)
	case "suspend":
		return svc.Suspend(ctx, op, id, version, reason)
	case "resume":
		return svc.Resume(ctx, op, id, version)
	case "end":
		return svc.End(ctx, op, id, version, reason)
	}
	return mandates.Representation{}, fmt.Errorf("status change %q: %w", action, mandates.ErrNotFound)
}

type apiDelegatesBody struct {
	Version   int64    `json:"version"`
	Delegates []string `json:"delegates"`
}

func (s *apiPages) apiSetDelegates(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	var b apiDelegatesBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	if err := requireVersion(b.Version); err != nil {
		return err
	}
	if b.Delegates == nil {
		b.Delegates = []string{}
	}
	rep, err := s.mandates.Service.SetDelegates(r.Context(), actor(sess), mux.Vars(r)["id"], b.Version, b.Delegates)
	if err != nil {
		return err
	}
	s.writeRepresentation(w, http.StatusOK, rep)
	return nil
}

// apiOrganisations lists every organisation to an operator, and to anyone
// else the organisations they are an active member of.
func (s *apiPages) apiOrganisations(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	svc := s.mandates.Service
	isOp, err := svc.IsOperator(ctx, sess.PersonID)
	if err != nil {
		return err
	}
	var orgs []mandates.Organisation
	if isOp {
		if orgs, err = svc.Organisations(ctx, actor(sess)); err != nil {
			return err
		}
	} else {
		ms, err := svc.MembershipsOf(ctx, sess.PersonID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Active {
				orgs = append(orgs, m.Organisation)
			}
		}
	}
	out := make([]apiOrganisation, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, organisationJSON(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"organisations": out})
	return nil
}

type apiOrganisationBody struct {
	Name           string                    `json:"name"`
	Kind           mandates.OrganisationKind `json:"kind"`
	ProcedureAreas []mandates.Area           `json:"procedure_areas"`
	AdminID        string                    `json:"admin_id"`
	AdminEmail     string                    `json:"admin_email"`
	SIRET          string                    `json:"siret"` // optional
	apiOrgAddress                            // required
}

func (s *apiPages) apiCreateOrganisation(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiOperator(r)
	if err != nil {
		return err
	}
	var b apiOrganisationBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	ctx := r.Context()
	admin, err := s.personID(ctx, "admin", b.AdminID, b.AdminEmail)
	if err != nil {
		return err
	}
	if admin == "" {
		return &jsonProblem{http.StatusBadRequest, "invalid_request", "admin is missing: give admin_id or admin_email."}
	}
	o, err := s.mandates.Service.CreateOrganisation(ctx, actor(sess), mandates.Organisation{Name: strings.TrimSpace(b.Name), Kind: b.Kind,
		Areas: b.ProcedureAreas, Address: b.address(), SIRET: mandates.NormalSIRET(b.SIRET)}, admin)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/organisations/"+o.ID)
	writeJSON(w, http.StatusCreated, organisationJSON(o))
	return nil
}

func (s *apiPages) apiOrganisation(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	o, err := s.mandates.Service.Organisation(r.Context(), sess.PersonID, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, organisationJSON(o))
	return nil
}

func (s *apiPages) apiMembers(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	ms, err := s.mandates.Service.Members(r.Context(), actor(sess), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	out := make([]apiMember, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberJSON(m.Membership, m.Name, m.Email))
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": out})
	return nil
}

type apiMemberBody struct {
	PersonID    string              `json:"person_id"`
	PersonEmail string              `json:"person_email"`
	Role        mandates.MemberRole `json:"role"`
}

// memberRole checks a role before the domain stores it.
func memberRole(role mandates.MemberRole) error {
	if role != mandates.MemberAidant && role != mandates.MemberAdmin {
		return badInput("role", mandates.RuleUnknown)
	}
	return nil
}

func (s *apiPages) apiHabilitate(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	var b apiMemberBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	ctx, orgID := r.Context(), mux.Vars(r)["id"]
	// The administrator's right first, so that nobody else learns which
	// email addresses have an account.
	if _, err := s.mandates.Service.Members(ctx, actor(sess), orgID); err != nil {
		return err
	}
	if err := memberRole(b.Role); err != nil {
		return err
	}
	pid, err := s.personID(ctx, "person", b.PersonID, b.PersonEmail)
	if err == nil && pid == "" {
		err = badInput("person", mandates.RuleRequired)
	}
	if err != nil {
		return err
	}
	m, err := s.mandates.Service.Habilitate(ctx, actor(sess), orgID, pid, b.Role)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/organisations/"+orgID+"/members/"+pid)
	writeJSON(w, http.StatusCreated, memberJSON(m, "", ""))
	return nil
}

func (s *apiPages) apiWithdrawMember(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	v := mux.Vars(r)
	if err := s.mandates.Service.WithdrawMember(r.Context(), actor(sess), v["id"], v["person_id"]); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *apiPages) apiOrgMandates(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.apiSession(r)
	if err != nil {
		return err
	}
	views, err := s.mandates.Service.Mandates(r.Context(), actor(sess), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"mandates": viewsJSON(views, s.now())})
	return nil
}

// unknownMember is the first member of the JSON value raw that type t has
// no field for (looking into nested objects and arrays as encoding/json
// does, names matched without regard to case), "" when there is none or
// raw does not have t's shape.
func unknownMember(raw []byte, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			i := slices.IndexFunc(fields, func(f reflect.StructField) bool { return strings.EqualFold(jsonName(f), k) })
			if i < 0 {
				return k
			}
			if name := unknownMember(obj[k], fields[i].Type); name != "" {
				return name
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return ""
		}
		for _, it := range items {
			if name := unknownMember(it, t.Elem()); name != "" {
				return name
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return ""
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if name := unknownMember(m[k], t.Elem()); name != "" {
				return name
			}
		}
	}
	return ""
}

// jsonFields are the fields encoding/json reads into a struct, those of
// untagged embedded structs included.
func jsonFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for f := range t.Fields() {
		switch {
		case f.Tag.Get("json") == "-":
		case f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct:
			out = append(out, jsonFields(f.Type)...)
		case f.IsExported():
			out = append(out, f)
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
		return name
	}
	return f.Name
}
