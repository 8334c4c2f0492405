package authz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// The search APIs (OpenID AuthZEN Authorization API 1.0 §8): a site asks
// who may do an act for a person (subject search), for whom an actor may
// do it (resource search), or what an actor may do for a person (action
// search), in one procedure area. Each result is what the access
// evaluation endpoint would answer true for at that moment: the domain
// decides every candidate as evaluation does and journals each decision
// (mandates.Service.Search). Sites name people, and learn them, only by
// the subs Relais issued to them: a result's id is the sub the site was
// given for that person (pairwise for its sector, or the local id for a
// public-subject client), and a person the site was never given is never
// a result. A sub the site was never given searches nothing: the answer
// is an empty page, the same as for a person nobody represents.

const (
	searchSubjectPath  = "/access/v1/search/subject"
	searchResourcePath = "/access/v1/search/resource"
	searchActionPath   = "/access/v1/search/action"
	// defaultSearchLimit is a page's size when the request sets none; a
	// larger limit than mandates.MaxSearchLimit is lowered to it.
	defaultSearchLimit = 50
	// maxSubLength bounds a sub the store is asked about: Relais's subs
	// are 43 characters (pairwise) or 36 (public).
	maxSubLength = 255
)

// AccessSearcher is what the search endpoints ask of the domain.
// mandates.Service implements it; the endpoints answer 404 when the
// provider's Delegation does not.
type AccessSearcher interface {
	Search(ctx context.Context, in mandates.Search, clientID string, names mandates.Namer) (mandates.SearchPage, error)
}

var _ AccessSearcher = (*mandates.Service)(nil)

func (p *Provider) searcher() (AccessSearcher, oauth.SubjectLister) {
	s, _ := p.delegation.(AccessSearcher)
	l, _ := p.subjects.(oauth.SubjectLister)
	if s == nil || l == nil {
		return nil, nil
	}
	return s, l
}

// searchEndpoints are the search routes, added to accessEndpoints.
func (p *Provider) searchEndpoints() []Endpoint {
	return []Endpoint{
		{searchSubjectPath, []string{http.MethodPost}, p.accessSearch(mandates.SearchActors)},
		{searchResourcePath, []string{http.MethodPost}, p.accessSearch(mandates.SearchPersons)},
		{searchActionPath, []string{http.MethodPost}, p.accessSearch(mandates.SearchActions)},
	}
}

// searchMetadata is what the PDP metadata says of the searches (AuthZEN
// §9.1.1), when they are on.
func (p *Provider) searchMetadata() map[string]any {
	if s, _ := p.searcher(); s == nil {
		return nil
	}
	iss := p.cfg.Issuer
	return map[string]any{
		"search_subject_endpoint":  iss + searchSubjectPath,
		"search_resource_endpoint": iss + searchResourcePath,
		"search_action_endpoint":   iss + searchActionPath,
	}
}

type (
	searchRequest struct {
		Subject  *entity `json:"subject"`
		Resource *entity `json:"resource"`
		Action   *action `json:"action"`
		// Context must be an object, as at evaluation; a search ignores
		// it.
		Context map[string]any `json:"context"`
		Page    *struct {
			Token string `json:"token"`
			Limit *int   `json:"limit"`
		} `json:"page"`
		clientCredentials
	}
	// searchResponse keeps page first, as AuthZEN §8.3 recommends.
	searchResponse struct {
		Page    searchPageJSON `json:"page"`
		Results []any          `json:"results"`
	}
	searchPageJSON struct {
		NextToken string `json:"next_token"`
		Count     int    `json:"count"`
	}
)

func (p *Provider) accessSearch(kind mandates.SearchKind) http.HandlerFunc {
	return p.accessHandler(func(w http.ResponseWriter, r *http.Request) error {
		var req searchRequest
		c, err := p.readAccessRequest(w, r, &req, func() clientCredentials { return req.clientCredentials })
		if err != nil {
			return err
		}
		out, err := p.search(r.Context(), c, kind, req)
		if err != nil {
			return err
		}
		writeAccessJSON(w, r, http.StatusOK, out)
		return nil
	})
}

// searchQuery is a search request checked: what it asks, and what a page
// token must have been issued for.
type searchQuery struct {
	kind                mandates.SearchKind
	actorSub, personSub string
	action              mandates.Action
	area                mandates.Area
	limit               int
}

// searchQueryOf checks the request's entities as evaluation checks its
// own (question), leaving out the searched one: its id, if any, is
// ignored (AuthZEN §8.4–8.6).
func searchQueryOf(c oauth.Client, kind mandates.SearchKind, req searchRequest) (searchQuery, error) {
	q := searchQuery{kind: kind}
	switch {
	case req.Subject == nil || req.Subject.Type != "user":
		return q, badRequest(`subject must be {"type": "user", "id": the actor's sub}; a subject search leaves out the id.`)
	case kind != mandates.SearchActors && req.Subject.ID == "":
		return q, badRequest("subject.id is required: the actor's sub.")
	case req.Resource == nil || req.Resource.Type != "account":
		return q, badRequest(`resource must be {"type": "account", "id": the person's sub, "properties": {"procedure_area": …}}; a resource search leaves out the id.`)
	case kind != mandates.SearchPersons && req.Resource.ID == "":
		return q, badRequest("resource.id is required: the person's sub.")
	case kind != mandates.SearchActions && (req.Action == nil || !mandates.Action(req.Action.Name).Valid()):
		return q, badRequest("action.name must be consult, manage, dispose or personal.")
	}
	if kind != mandates.SearchActors {
		q.actorSub = req.Subject.ID
	}
	if kind != mandates.SearchPersons {
		q.personSub = req.Resource.ID
	}
	if kind != mandates.SearchActions {
		q.action = mandates.Action(req.Action.Name)
	}
	var props struct {
		Area string `json:"procedure_area"`
	}
	if len(req.Resource.Properties) > 0 {
		if err := json.Unmarshal(req.Resource.Properties, &props); err != nil {
			return q, badRequest("resource.properties.procedure_area must be a string.")
		}
	}
	q.area = mandates.Area(props.Area)
	switch {
	case props.Area == "":
		return q, badRequest("resource.properties.procedure_area is required.")
	case !q.area.Valid():
		return q, badRequest("resource.properties.procedure_area %q is not a procedure area.", props.Area)
	case len(c.ProcedureAreas) > 0 && !slices.Contains(c.ProcedureAreas, props.Area):
		return q, badRequest("resource.properties.procedure_area %q is not one of this client's registered procedure areas.", props.Area)
	}
	q.limit = defaultSearchLimit
	if req.Page != nil && req.Page.Limit != nil {
		switch l := *req.Page.Limit; {
		case l < 0:
			return q, badRequest("page.limit must be a non-negative integer.")
		case l > mandates.MaxSearchLimit:
			q.limit = mandates.MaxSearchLimit
		case l > 0:
			q.limit = l
		}
	}
	return q, nil
}

// search answers one page of a search for client c.
func (p *Provider) search(ctx context.Context, c oauth.Client, kind mandates.SearchKind, req searchRequest) (*searchResponse, error) {
	searcher, lister := p.searcher()
	if searcher == nil {
		return nil, &accessError{http.StatusNotFound, "not_found", "Access search is not enabled on this server."}
	}
	q, err := searchQueryOf(c, kind, req)
	if err != nil {
		return nil, err
	}
	after := ""
	if req.Page != nil && req.Page.Token != "" {
		var ok bool
		if after, ok = p.openPageToken(c, q, req.Page.Token); !ok {
			// AuthZEN §8.2: a token goes with the request it came from, same
			// entities and limit.
			return nil, badRequest("page.token is not a next_token Relais gave for this search: repeat the first request's subject, resource, action and limit with it.")
		}
	}
	empty := &searchResponse{Results: []any{}}
	var actor, person string
	known, err := lister.IssuedSubjects(ctx, sector(c), plausibleSubs(q.actorSub, q.personSub))
	if err != nil {
		return nil, err
	}
	if q.actorSub != "" {
		if actor = known[q.actorSub]; actor == "" {
			return empty, nil
		}
	}
	if q.personSub != "" {
		if person = known[q.personSub]; person == "" {
			return empty, nil
		}
	}
	page, err := searcher.Search(ctx, mandates.Search{Kind: kind, ActorID: actor, PersonID: person, Action: q.action, Area: q.area,
		After: after, Limit: q.limit}, c.ID, siteNames{p: p, c: c, lister: lister})
	switch {
	case errors.Is(err, mandates.ErrInvalid):
		return nil, badRequest("The search is malformed.")
	case err != nil:
		return nil, err
	}
	out := &searchResponse{Page: searchPageJSON{Count: len(page.Results)}, Results: make([]any, 0, len(page.Results))}
	if page.Next != "" {
		out.Page.NextToken = p.pageToken(c, q, page.Next)
	}
	for _, f := range page.Results {
		out.Results = append(out.Results, resultJSON(kind, q.area, f))
	}
	return out, nil
}

// resultJSON is one result as the searched entity; a person comes with
// what evaluation's context would say of the answer: the representation
// it rests on.
func resultJSON(kind mandates.SearchKind, area mandates.Area, f mandates.Found) any {
	if kind == mandates.SearchActions {
		return action{Name: f.Name}
	}
	props := map[string]any{}
	if r := f.Answer.Representation; r != nil {
		props["representation"] = representationJSON(r)
	}
	out := map[string]any{"type": "user", "id": f.Name}
	if kind == mandates.SearchPersons {
		out["type"] = "account"
		props["procedure_area"] = area
	}
	if len(props) > 0 {
		out["properties"] = props
	}
	return out
}

// plausibleSubs are the subs worth asking the store about: text no store
// refuses and no longer than a sub Relais issues. Any other was never
// issued.
func plausibleSubs(subs ...string) []string {
	var out []string
	for _, s := range subs {
		if s != "" && len(s) <= maxSubLength && utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
			out = append(out, s)
		}
	}
	return out
}

// siteNames names people as site c knows them: by the sub Relais issued
// to c for each, when it did.
type siteNames struct {
	p      *Provider
	c      oauth.Client
	lister oauth.SubjectLister
}

func (n siteNames) Names(ctx context.Context, personIDs []string) (map[string]string, error) {
	bySub := make(map[string]string, len(personIDs))
	subs := make([]string, 0, len(personIDs))
	for _, id := range personIDs {
		sub := n.p.Subject(n.c, id)
		bySub[sub] = id
		subs = append(subs, sub)
	}
	issued, err := n.lister.IssuedSubjects(ctx, sector(n.c), subs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(issued))
	for sub, id := range issued {
		if bySub[sub] == id {
			out[id] = sub
		}
	}
	return out, nil
}

// A page token is "2." + the name of the last candidate decided, sealed
// (AES-GCM, under a key derived from the deployment's secret key) with the
// client and the search as its additional data: any instance opens it; a
// token forged, altered, or used with another search or by another client
// does not open; and the name stays hidden, since the last candidate
// decided may be one the search refused (version 1 showed it).
const pageTokenVersion = "2"

// pageBinding is what a page token is bound to: the client and the search.
func pageBinding(c oauth.Client, q searchQuery) string {
	var b strings.Builder
	for _, s := range []string{pageTokenVersion, c.ID, string(q.kind), q.actorSub, q.personSub, string(q.action), string(q.area), strconv.Itoa(q.limit)} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

func (p *Provider) pageToken(c oauth.Client, q searchQuery, after string) string {
	return pageTokenVersion + "." + base64.RawURLEncoding.EncodeToString(p.pageBox.Seal(pageBinding(c, q), []byte(after)))
}

func (p *Provider) openPageToken(c oauth.Client, q searchQuery, token string) (string, bool) {
	version, sealed, ok := strings.Cut(token, ".")
	if !ok || version != pageTokenVersion {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", false
	}
	after, err := p.pageBox.Open(pageBinding(c, q), b)
	if err != nil || len(after) == 0 {
		return "", false
	}
	return string(after), true
}
