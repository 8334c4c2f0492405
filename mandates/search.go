package mandates

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Searches (OpenID AuthZEN Authorization API 1.0 §8) leave one part of a
// question open and answer with every value of it that evaluation would
// allow: who may do this act for this person (subject search), for whom
// may this actor do it (resource search), what may this actor do for this
// person (action search). A search is the evaluations it runs: each
// candidate is decided by Decide on the facts evaluation reads, one
// question at a time, so a result is exactly what Evaluate would answer
// allowed at that moment, and each decision is journaled as Evaluate
// journals it.

// SearchKind says which part of the question a search leaves open; the
// values are AuthZEN's names of the searched entity.
type SearchKind string

const (
	SearchActors  SearchKind = "subject"  // who may do Action for PersonID in Area?
	SearchPersons SearchKind = "resource" // for whom may ActorID do Action in Area?
	SearchActions SearchKind = "action"   // what may ActorID do for PersonID in Area?
)

// MaxSearchLimit bounds the results of one page.
const MaxSearchLimit = 100

// maxSearchDecisions bounds the candidates one page decides, so a page
// costs at most this many decisions however few of them are allowed: a
// page may then hold fewer results than its limit, and the next one
// carries on (AuthZEN §8.2: a partial result with a next token).
const maxSearchDecisions = 2 * MaxSearchLimit

// Search is a question with one part left open (Kind), one page of it.
type Search struct {
	Kind     SearchKind
	ActorID  string // given for SearchPersons and SearchActions
	PersonID string // given for SearchActors and SearchActions
	Action   Action // given for SearchActors and SearchPersons
	Area     Area
	At       time.Time // default: now
	// After is the name of the last candidate the previous page decided
	// (SearchPage.Next); empty for the first page.
	After string
	// Limit is how many results the page may hold, 1 to MaxSearchLimit.
	Limit int
}

// Namer names people as the one who searches knows them: a site knows a
// person only by the subject Relais issued to it for that person, and a
// search must never tell a site about anyone else.
type Namer interface {
	// Names returns, for each of personIDs the searcher knows, the name
	// it knows them by; a person it does not know is absent.
	Names(ctx context.Context, personIDs []string) (map[string]string, error)
}

// Found is one result: the name the searcher knows it by (a person's, as
// Namer gave it, or the action), the evaluation it answers, and the
// answer, which is Allowed.
type Found struct {
	Name     string
	Question Question
	Answer   Answer
}

// SearchPage is one page of results, in the order of their names.
type SearchPage struct {
	Results []Found
	// Next is the name of the last candidate this page decided when
	// candidates remain after it, to pass as the next page's After; empty
	// at the end.
	Next string
}

// searchCandidate is one question a search may decide, by the name of
// the value it fills in.
type searchCandidate struct {
	name string
	q    Question
}

// Search answers one page of in for the site clientID, which names people
// through names. Candidates are ordered by name; the page decides them,
// from the first after in.After, until it holds in.Limit allowed results
// or has decided maxSearchDecisions of them. Each decision is journaled
// on the person's chain as an evaluation (EventAccessEvaluated), with the
// detail search set to the kind: a search tells a site who represents
// whom, as evaluations do. Cosign answers are not results: evaluation
// answers them false until the other party agrees (AuthZEN §8.1: a
// result is what evaluation would permit). A person the site cannot name
// is never decided, so never a result and never journaled. It fails with
// ErrInvalid on a malformed search.
func (s *Service) Search(ctx context.Context, in Search, clientID string, names Namer) (SearchPage, error) {
	if err := in.validate(); err != nil {
		return SearchPage{}, err
	}
	if in.At.IsZero() {
		in.At = s.now()
	}
	var cands []searchCandidate
	var err error
	switch in.Kind {
	case SearchActions:
		for _, a := range Actions {
			cands = append(cands, searchCandidate{string(a), Question{ActorID: in.ActorID, PersonID: in.PersonID, Action: a, Area: in.Area, At: in.At}})
		}
	case SearchActors:
		cands, err = s.actorCandidates(ctx, in, names)
	case SearchPersons:
		cands, err = s.personCandidates(ctx, in, names)
	}
	if err != nil {
		return SearchPage{}, err
	}
	slices.SortFunc(cands, func(a, b searchCandidate) int { return strings.Compare(a.name, b.name) })
	start := 0
	if in.After != "" {
		start, _ = slices.BinarySearchFunc(cands, in.After, func(c searchCandidate, after string) int {
			if c.name <= after {
				return -1
			}
			return 1
		})
	}
	var page SearchPage
	var facts *Facts // an action search asks one pair: its facts are read once
	decided := 0
	for i := start; i < len(cands) && len(page.Results) < in.Limit && decided < maxSearchDecisions; i++ {
		c := cands[i]
		var f Facts
		if facts != nil {
			f = *facts
		} else if f, err = s.facts(ctx, c.q); err != nil {
			return SearchPage{}, fmt.Errorf("search %s: %w", in.Kind, err)
		}
		if in.Kind == SearchActions {
			facts = &f
		}
		ans, err := s.cfg.Policy.Decide(c.q, f)
		if err != nil {
			return SearchPage{}, fmt.Errorf("search %s: %w", in.Kind, err)
		}
		e := evaluationEvent(c.q, clientID, ans, "")
		e.Detail["search"] = string(in.Kind)
		if err := s.record(ctx, e); err != nil {
			return SearchPage{}, err
		}
		decided++
		if ans.Decision == Allowed {
			page.Results = append(page.Results, Found{Name: c.name, Question: c.q, Answer: ans})
		}
		if i+1 < len(cands) {
			page.Next = c.name
		} else {
			page.Next = ""
		}
	}
	return page, nil
}

func (in Search) validate() error {
	switch in.Kind {
	case SearchActors, SearchPersons, SearchActions:
	default:
		return invalid("search", RuleUnknown)
	}
	switch {
	case in.Kind != SearchActors && !IsID(in.ActorID):
		return invalid("actor", RuleFormat)
	case in.Kind != SearchPersons && !IsID(in.PersonID):
		return invalid("person", RuleFormat)
	case in.Kind != SearchActions && !in.Action.Valid():
		return invalid("action", RuleUnknown)
	case !in.Area.Valid():
		return invalid("procedure_area", RuleUnknown)
	case in.Limit < 1 || in.Limit > MaxSearchLimit:
		return invalidLimit("limit", RuleTooMany, MaxSearchLimit)
	}
	return nil
}

// actorCandidates are the person and whoever may hold one of their
// representations that is in force and covers the area: its
// representative, or the active members of the organisation holding it
// (its delegates, when it names some). Anyone else is refused by
// decideRepresentative, which needs such a representation.
func (s *Service) actorCandidates(ctx context.Context, in Search, names Namer) ([]searchCandidate, error) {
	f, err := s.store.DecisionFacts(ctx, in.PersonID, "")
	if err != nil {
		return nil, fmt.Errorf("search actors of %s: %w", in.PersonID, err)
	}
	ids := []string{in.PersonID}
	members := map[string][]Membership{}
	for i := range f.Representations {
		r := &f.Representations[i]
		if r.PersonID != in.PersonID || !r.ActiveAt(in.At) || !r.Covers(in.Area) {
			continue
		}
		rep := r.Representative
		if !rep.IsOrganisation() {
			ids = append(ids, rep.PersonID)
			continue
		}
		ms, ok := members[rep.OrganisationID]
		if !ok {
			if ms, err = s.store.Members(ctx, rep.OrganisationID); err != nil {
				return nil, fmt.Errorf("search actors of %s: %w", in.PersonID, err)
			}
			members[rep.OrganisationID] = ms
		}
		for _, m := range ms {
			if m.Active && (len(rep.Delegates) == 0 || slices.Contains(rep.Delegates, m.PersonID)) {
				ids = append(ids, m.PersonID)
			}
		}
	}
	return s.named(ctx, ids, names, func(id string) Question {
		return Question{ActorID: id, PersonID: in.PersonID, Action: in.Action, Area: in.Area, At: in.At}
	})
}

// personCandidates are the actor and the persons of the representations
// the actor may hold, in their own name or through an organisation they
// are an active member of (and a delegate of, when it names some), that
// are in force and cover the area. For anyone else, decideRepresentative
// finds no representation the actor holds.
func (s *Service) personCandidates(ctx context.Context, in Search, names Namer) ([]searchCandidate, error) {
	ms, err := s.store.MembershipsOf(ctx, in.ActorID)
	if err != nil {
		return nil, fmt.Errorf("search persons of %s: %w", in.ActorID, err)
	}
	var orgs []string
	for _, m := range ms {
		if m.Active {
			orgs = append(orgs, m.OrganisationID)
		}
	}
	reps, err := s.store.RepresentationsBy(ctx, in.ActorID, orgs)
	if err != nil {
		return nil, fmt.Errorf("search persons of %s: %w", in.ActorID, err)
	}
	ids := []string{in.ActorID}
	for i := range reps {
		r := &reps[i]
		if ds := r.Representative.Delegates; !r.ActiveAt(in.At) || !r.Covers(in.Area) || (len(ds) > 0 && !slices.Contains(ds, in.ActorID)) {
			continue
		}
		ids = append(ids, r.PersonID)
	}
	return s.named(ctx, ids, names, func(id string) Question {
		return Question{ActorID: in.ActorID, PersonID: id, Action: in.Action, Area: in.Area, At: in.At}
	})
}

// named keeps the candidates the searcher can name, once each, with the
// question each one fills in.
func (s *Service) named(ctx context.Context, ids []string, names Namer, question func(id string) Question) ([]searchCandidate, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	known, err := names.Names(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("names of candidates: %w", err)
	}
	out := make([]searchCandidate, 0, len(known))
	for _, id := range ids {
		if name, ok := known[id]; ok && name != "" {
			out = append(out, searchCandidate{name, question(id)})
		}
	}
	return out, nil
}
