package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// "Pour qui faites-vous cette démarche ?": after login at a site, a person
// who represents others chooses for whom they act there. The choice goes
// back to /authorize sealed (authz.SealChoice), bound to this browser
// session and this site, so a site cannot choose for the person.
const (
	forWhomPath = "/pour-qui"
	choiceParam = "relais_for"
	// forHintParam lets a site preselect the person (by the sub it knows
	// for them, or their email); the person still confirms.
	forHintParam = "for_hint"
)

// candidate is one person the actor may act for at a site.
type candidate struct {
	ID           string // the representation's id
	Name         string // the represented person
	Kind         locales.Text
	KindCode     mandates.Kind // for « means » (kindMeans)
	Role         locales.Text
	Organisation string // the organisation holding it, when one does
	Until        time.Time
	Selected     bool
	// Confirm: held through an organisation, chosen from a login without
	// the second factor: the code is asked after the choice.
	Confirm bool
}

type forWhomData struct {
	Site       string
	Request    string
	Candidates []candidate
	Kinds      []measureOf // the measures over the candidates, each once: the page says what they mean, about each by name
	// Locked are held through an organisation by someone who has not
	// turned the second factor on: not a choice yet, and Setup is where to
	// turn it on ("" when this deployment has none).
	Locked     []candidate
	Setup      string
	Confirm    bool // some candidate asks for the code
	SelfChosen bool
	Problem    string
}

// actingCandidates are the representations the actor may use at the site
// now: in force, and covering at least one of the site's procedure areas
// (any area when the site registered none).
func (s *signInPages) actingCandidates(ctx context.Context, actorID string, c oauth.Client) ([]mandates.View, error) {
	vs, err := s.mandates.Service.For(ctx, actorID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(vs, func(v mandates.View) bool {
		if v.Status != mandates.StatusActive {
			return true
		}
		if len(c.ProcedureAreas) == 0 {
			return false
		}
		for _, a := range c.ProcedureAreas {
			if v.Covers(mandates.Area(a)) {
				return false
			}
		}
		return true
	}), nil
}

// actingChoice returns the representation the person chose for this
// request ("" for themselves). When they must still choose, it shows the
// page (or answers interaction_required for prompt=none) and returns false.
func (s *signInPages) actingChoice(w http.ResponseWriter, r *http.Request, a *authz.AuthorizeRequest, sess authn.BrowserSession) (string, bool) {
	ctx := r.Context()
	p := s.oidc.Provider
	if sealed := a.Form().Get(choiceParam); sealed != "" {
		if choice, ok := p.OpenChoice(sealed, sess.ID, a.Client().ID); ok {
			if choice == authz.ActingSelf {
				return "", true
			}
			return choice, true
		}
	}
	cands, err := s.actingCandidates(ctx, sess.PersonID, a.Client())
	if err != nil {
		s.StoreError(w, r, err)
		return "", false
	}
	if len(cands) == 0 {
		return "", true // nobody to choose: the page is skipped
	}
	if a.HasPrompt("none") {
		p.AuthorizeError(w, r, a, authz.ErrInteractionRequired)
		return "", false
	}
	q := a.Form()
	q.Del(choiceParam)
	allowFormTarget(w, q.Get("redirect_uri"))
	d, err := s.forWhomData(ctx, actor(sess), a.Client(), cands, q.Encode(), q.Get(forHintParam))
	if err != nil {
		s.StoreError(w, r, err)
		return "", false
	}
	s.render(w, r, http.StatusOK, "forwhom", "forwhom.title", d)
	return "", false
}

// measureOf is a measure and the name of the person it protects.
type measureOf struct {
	Kind mandates.Kind
	Name string
}

// forWhomData lists the people the actor may choose, each once. A
// representation held through an organisation is used only from a login
// with the second factor (DESIGN.md §4): to a login without it, its entry
// says « Confirmez avec votre code » and the code is asked after the
// choice; to someone who has not turned the code on, it is listed apart,
// with the way to turn it on.
func (s *signInPages) forWhomData(ctx context.Context, a mandates.Actor, c oauth.Client, cands []mandates.View, request, hint string) (forWhomData, error) {
	d := forWhomData{Site: c.Name, Request: request}
	hinted := ""
	if hint != "" {
		if strings.Contains(hint, "@") {
			if p, err := s.mandates.Service.PersonByEmail(ctx, hint); err == nil {
				hinted = p.ID
			}
		} else if id, err := s.oidc.Provider.PersonOf(ctx, c, hint); err == nil {
			hinted = id
		}
	}
	seen := map[string]bool{}
	enrolled, checked := false, false
	for _, v := range cands {
		if seen[v.ID] {
			continue
		}
		seen[v.ID] = true
		cd := candidate{ID: v.ID, Name: v.PersonName, Kind: locales.Kind(v.Kind), KindCode: v.Kind, Role: roleOf(v), Selected: hinted != "" && v.PersonID == hinted}
		cd.Until = v.ValidUntil
		if v.Organisation != nil {
			// Two organisations may help one person: their names tell
			// the entries apart.
			cd.Organisation = v.Organisation.Name
		}
		if v.Representative.IsOrganisation() && !a.SecondFactor {
			if !checked {
				var err error
				if enrolled, err = s.secondFactorOn(ctx, a.PersonID); err != nil {
					return d, err
				}
				checked = true
			}
			if !enrolled {
				d.Locked = append(d.Locked, cd)
				continue
			}
			cd.Confirm, d.Confirm = true, true
		}
		d.Candidates = append(d.Candidates, cd)
		if k := (measureOf{Kind: v.Kind, Name: v.PersonName}); v.Kind.IsMeasure() && !slices.Contains(d.Kinds, k) {
			d.Kinds = append(d.Kinds, k)
		}
	}
	byName := func(a, b candidate) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(d.Candidates, byName)
	slices.SortFunc(d.Locked, byName)
	if len(d.Locked) > 0 && s.oidc.TOTP != nil {
		d.Setup = totpPath
	}
	return d, nil
}

// chooseForWhom takes the person's choice, checks it is theirs to make,
// and goes back to /authorize with it sealed.
func (s *signInPages) chooseForWhom(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	query := r.PostForm.Get("request")
	sess, ok := CurrentSession(ctx)
	if !ok {
		http.Redirect(w, r, "/login?"+url.Values{"return": {"/authorize?" + query}}.Encode(), http.StatusSeeOther)
		return nil
	}
	original, err := http.NewRequestWithContext(ctx, http.MethodGet, "/authorize?"+query, nil)
	if err != nil {
		return statusError(http.StatusBadRequest)
	}
	a, err := s.oidc.Provider.ParseAuthorize(ctx, original)
	if err != nil {
		if !s.oidc.Provider.AuthorizeError(w, original, a, err) {
			s.Error(w, r, http.StatusBadRequest)
		}
		return nil
	}
	choice := r.PostForm.Get("for")
	cands, err := s.actingCandidates(ctx, sess.PersonID, a.Client())
	if err != nil {
		return err
	}
	valid := choice == authz.ActingSelf || slices.ContainsFunc(cands, func(v mandates.View) bool { return v.ID == choice })
	if !valid {
		// Nothing chosen, or a choice that is not the person's (a forged
		// field, or a representation that ended meanwhile): ask again.
		d, err := s.forWhomData(ctx, actor(sess), a.Client(), cands, query, "")
		if err != nil {
			return err
		}
		d.Problem = "forwhom.problem_choose"
		if choice != "" {
			d.Problem = "forwhom.problem_not_yours"
		}
		allowFormTarget(w, original.URL.Query().Get("redirect_uri"))
		s.render(w, r, http.StatusBadRequest, "forwhom", "forwhom.title", d)
		return nil
	}
	q := original.URL.Query()
	q.Set(choiceParam, s.oidc.Provider.SealChoice(sess.ID, a.Client().ID, choice))
	http.Redirect(w, r, "/authorize?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// actingData is what the consent page says about acting for someone.
type actingData struct {
	PersonName string
	Kind       locales.Text
	KindCode   mandates.Kind // for « means » (kindMeans)
	Role       locales.Text
}

// actingItems words what a site asks about another person's information
// (issue 17: « l’identité de Jeanne Lefèvre », never « votre identité »).
// The protection scope is left out: a site never learns the measures of a
// person acted for (authz drops the scope). Keeping the session open is
// the reader's own, and keeps its words.
func actingItems(items []string) []string {
	out := make([]string, 0, len(items))
	for _, id := range items {
		switch id {
		case "scope.protection":
		case "scope.offline_access":
			out = append(out, id)
		default:
			out = append(out, "acting."+id)
		}
	}
	return out
}

func (s *signInPages) actingFor(ctx context.Context, a mandates.Actor, representationID string) (*actingData, error) {
	v, err := s.mandates.Service.Usable(ctx, a, representationID, s.now())
	if err != nil {
		return nil, err
	}
	return &actingData{PersonName: v.PersonName, Kind: locales.Kind(v.Kind), KindCode: v.Kind, Role: roleOf(v)}, nil
}
