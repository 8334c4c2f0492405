package ui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// orgPages are the pages of an organisation's administrator.
type orgPages struct{ *Server }

// The organisation's page, for its administrator (or an operator): its
// members, habilitating and withdrawing aidants, its mandates and the
// delegates it names for the court measures it holds. Anyone else gets
// the 404 page.
func (s *orgPages) mountOrganisation(pages *mux.Router) {
	pages.HandleFunc("/structure/{id}", s.page(s.organisationPage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/structure/{id}/membres", s.page(s.habilitateMember)).Methods(http.MethodPost)
	pages.HandleFunc("/structure/{id}/membres/{person}/retirer", s.page(s.withdrawMember)).Methods(http.MethodPost)
	pages.HandleFunc("/structure/{id}/mandats/{rep}/delegues", s.page(s.setDelegates)).Methods(http.MethodPost)
}

// orgAdminOnly is the signed-in administrator of the organisation in the
// path, or an operator, with the organisation; anyone else gets the login
// page or the 404 page.
func (s *Server) orgAdminOnly(r *http.Request) (authn.BrowserSession, mandates.Organisation, error) {
	sess, err := s.requireSession(r)
	if err != nil {
		return sess, mandates.Organisation{}, err
	}
	ctx, id := r.Context(), mux.Vars(r)["id"]
	if !mandates.IsID(id) {
		return sess, mandates.Organisation{}, statusError(http.StatusNotFound)
	}
	// Members is the administrator's right: its refusal is a 404 here.
	if _, err := s.mandates.Service.Members(ctx, actor(sess), id); err != nil {
		if errors.Is(err, mandates.ErrNotPermitted) {
			err = mandates.ErrNotFound
		}
		return sess, mandates.Organisation{}, err
	}
	o, err := s.mandates.Service.Organisation(ctx, sess.PersonID, id)
	return sess, o, err
}

// orgMandate is one of the organisation's mandates in force, and whether
// the organisation names its delegates (a court measure it holds).
type orgMandate struct {
	mandates.View
	Measure  bool
	Checked  []string // the delegates, as stored or as typed
	Problem  string
	Conflict bool
}

type orgData struct {
	Org        mandates.Organisation
	Name       string   // for the title
	Address    []string // its postal address, one line each; none when it has none
	IsOperator bool
	Self       string
	Members    []mandates.MembershipView
	Active     []mandates.MembershipView
	Mandates   []orgMandate
	Done       string
	Problems   []problem
	Errors     map[string]string
	// The habilitation form as typed.
	Email, Role string
}

func (s *orgPages) orgData(ctx context.Context, sess authn.BrowserSession, o mandates.Organisation) (orgData, error) {
	svc := s.mandates.Service
	d := orgData{Org: o, Name: o.Name, Address: addressLines(o.Address), Self: sess.PersonID, Role: string(mandates.MemberAidant),
		Errors: map[string]string{}}
	var err error
	if d.IsOperator, err = svc.IsOperator(ctx, sess.PersonID); err != nil {
		return d, err
	}
	if d.Members, err = svc.Members(ctx, actor(sess), o.ID); err != nil {
		return d, err
	}
	for _, m := range d.Members {
		if m.Active {
			d.Active = append(d.Active, m)
		}
	}
	views, err := svc.Mandates(ctx, actor(sess), o.ID)
	if err != nil {
		return d, err
	}
	for _, v := range views {
		if v.Status != mandates.StatusActive {
			continue
		}
		d.Mandates = append(d.Mandates, orgMandate{View: v, Measure: v.Kind.IsMeasure(), Checked: v.Representative.Delegates})
	}
	return d, nil
}

func (s *orgPages) organisationPage(w http.ResponseWriter, r *http.Request) error {
	sess, o, err := s.orgAdminOnly(r)
	if err != nil {
		return err
	}
	d, err := s.orgData(r.Context(), sess, o)
	if err != nil {
		return err
	}
	d.Done = doneMessages[r.URL.Query().Get("fait")]
	s.render(w, r, http.StatusOK, "org_home", "org.title", d)
	return nil
}

// renderOrgProblem shows the organisation's page again with the problem
// and what was typed.
func (s *orgPages) renderOrgProblem(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, o mandates.Organisation, status int,
	p *formProblems, edit func(*orgData)) error {
	d, err := s.orgData(r.Context(), sess, o)
	if err != nil {
		return err
	}
	d.Problems, d.Errors = p.list(), p.byID
	if edit != nil {
		edit(&d)
	}
	s.render(w, r, status, "org_home", "org.title", d)
	return nil
}

func (s *orgPages) habilitateMember(w http.ResponseWriter, r *http.Request) error {
	sess, o, err := s.orgAdminOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	ctx := r.Context()
	email, role := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("role")
	p := s.formProblems(r, "member_email", "role-aidant")
	status := http.StatusBadRequest
	if memberRole(mandates.MemberRole(role)) != nil {
		p.add("role-aidant", "org.problem.role")
	}
	var person mandates.Person
	if email == "" {
		p.add("member_email", "org.problem.email_missing")
	} else if found, err := s.mandates.Service.PersonByEmail(ctx, email); errors.Is(err, mandates.ErrNotFound) {
		p.add("member_email", "org.problem.email_unknown")
	} else if err != nil {
		return err
	} else {
		person = found
	}
	personID := person.ID
	if p.empty() {
		_, err := s.mandates.Service.Habilitate(ctx, actor(sess), o.ID, personID, mandates.MemberRole(role))
		switch {
		case err == nil:
			http.Redirect(w, r, "/structure/"+o.ID+"?fait=habilite", http.StatusSeeOther)
			return nil
		case errors.Is(err, mandates.ErrAlreadyExists):
			status = http.StatusConflict
			p.add("member_email", "org.problem.already_member")
		case errors.Is(err, mandates.ErrNoSecondFactor):
			p.add("member_email", "org.problem.no_second_factor", map[string]any{"Name": mandates.DisplayName(person)})
		case invalidField(err) != "":
			p.add("member_email", "org.problem.email_unknown")
		default:
			return err
		}
	}
	return s.renderOrgProblem(w, r, sess, o, status, p, func(d *orgData) { d.Email, d.Role = email, role })
}

func (s *orgPages) withdrawMember(w http.ResponseWriter, r *http.Request) error {
	sess, o, err := s.orgAdminOnly(r)
	if err != nil {
		return err
	}
	person := mux.Vars(r)["person"]
	err = s.mandates.Service.WithdrawMember(r.Context(), actor(sess), o.ID, person)
	p := s.formProblems(r)
	switch {
	case err == nil:
		http.Redirect(w, r, "/structure/"+o.ID+"?fait=retire", http.StatusSeeOther)
		return nil
	case errors.Is(err, mandates.ErrInactive):
		p.add("", "org.problem.already_withdrawn")
	case errors.Is(err, mandates.ErrNotPermitted):
		p.add("", "org.problem.withdraw_self")
	default:
		return err
	}
	return s.renderOrgProblem(w, r, sess, o, http.StatusConflict, p, nil)
}

func (s *orgPages) setDelegates(w http.ResponseWriter, r *http.Request) error {
	sess, o, err := s.orgAdminOnly(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	ctx, svc := r.Context(), s.mandates.Service
	repID := mux.Vars(r)["rep"]
	version, err := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if err != nil || version <= 0 {
		return statusError(http.StatusBadRequest)
	}
	rep, err := svc.Representation(ctx, sess.PersonID, repID)
	if err == nil && rep.Representative.OrganisationID != o.ID {
		err = mandates.ErrNotFound
	}
	if err != nil {
		return err
	}
	delegates := []string{}
	for _, d := range r.PostForm["delegate"] {
		if d != "" && !slices.Contains(delegates, d) {
			delegates = append(delegates, d)
		}
	}
	_, err = svc.SetDelegates(ctx, actor(sess), repID, version, delegates)
	p := s.formProblems(r)
	status := http.StatusBadRequest
	switch {
	case err == nil:
		http.Redirect(w, r, "/structure/"+o.ID+"?fait=delegues#mandat-"+repID, http.StatusSeeOther)
		return nil
	case errors.Is(err, mandates.ErrConflict):
		status = http.StatusConflict
		p.add("del-"+repID, "org.problem.delegates_conflict")
	case invalidField(err) == "delegates" && invalidOf(err).Rule == mandates.RuleUnchanged:
		p.add("del-"+repID, "org.problem.delegates_unchanged")
	case invalidField(err) == "delegates":
		p.add("del-"+repID, "org.problem.delegates_members")
	default:
		return err
	}
	return s.renderOrgProblem(w, r, sess, o, status, p, func(d *orgData) {
		for i := range d.Mandates {
			if d.Mandates[i].ID == repID {
				d.Mandates[i].Checked = delegates
				d.Mandates[i].Problem = p.byID["del-"+repID]
				d.Mandates[i].Conflict = status == http.StatusConflict
			}
		}
	})
}
