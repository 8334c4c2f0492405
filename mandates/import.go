package mandates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The import's own rules, beside the domain's (InvalidError.Rule).
const (
	// RuleSeveralPersons: the identité pivot matches several persons, so
	// the import cannot tell which one the decision is about.
	RuleSeveralPersons Rule = "several_persons"
	// RuleRegisteredOtherwise: the decision's reference is registered with
	// another content (another person, kind, date, representative…).
	RuleRegisteredOtherwise Rule = "registered_otherwise"
	// RuleDisagrees: lines of one decision give it different values.
	RuleDisagrees Rule = "disagrees"
	// RuleEmailTaken: a new person's email address is another account's.
	RuleEmailTaken Rule = "email_taken"
)

// ImportLine is one line of a bulk import of court measures (relais
// measures import, POST /api/v1/measures/import), as a file's reader made
// it: the represented person by their identité pivot, the measure, and one
// representative. Lines with the same decision (CourtDecision.Key) are one
// measure naming several representatives; they must agree on the rest.
type ImportLine struct {
	Line       int    // the line's number in the file, from 1
	Person     Person // ID empty: found by PivotKey, or created
	Kind       Kind
	Areas      []Area
	ValidFrom  time.Time
	ValidUntil time.Time
	Decision   CourtDecision
	// The representative: a person by their account's email, or an
	// organisation by its id, with their role and their own areas.
	RepresentativeEmail string
	OrganisationID      string
	Role                Role
	RepresentativeAreas []Area
}

// ImportProblem is what is wrong with one line: the field (as ImportLine's
// readers name them: the domain's field names, "representative_email",
// "line"…) and the rule it breaks.
type ImportProblem struct {
	Line int
	InvalidError
}

// ImportOutcome is what the import does, or would do, with a good line.
type ImportOutcome string

const (
	ImportNewMeasure        ImportOutcome = "new_measure"
	ImportAlreadyRegistered ImportOutcome = "already_registered"
)

// ImportResult is what became of one good line.
type ImportResult struct {
	Line          int
	Outcome       ImportOutcome
	PersonID      string // found or created (in a dry run, the id it would have had)
	PersonCreated bool   // the line's person has no account before this import, which opens it
}

// ImportReport is the outcome of an import: every good line, every
// problem, in line order. Written says whether anything was stored: never
// in a dry run, never when there is a problem (all or nothing); when it is
// false, the results and the counts say what the import would do.
type ImportReport struct {
	Results           []ImportResult
	Problems          []ImportProblem
	PersonsCreated    int
	MeasuresCreated   int
	AlreadyRegistered int
	DryRun            bool
	Written           bool
}

// errRollback undoes the transaction of a dry run, or of an import with a
// problem found while writing.
var errRollback = errors.New("mandates: import rolled back")

// ImportMeasures registers the lines' measures, an operator's act like
// RegisterMeasure (each measure goes through it, with its checks and its
// journal entries). The represented person is found by their identité
// pivot (PivotKey): one match is that person, none creates the account
// (journaled account.opened by the operator, Detail by=import), several
// are a problem of the line. A decision already registered with the same
// content is reported already registered and left as it is; with another
// content it is a problem. Every line is checked and every problem
// reported; when there is one, or when dryRun is set, nothing is stored:
// the whole import runs in one transaction, rolled back.
//
// It fails (rather than reporting) only when the actor is not an operator
// or the store fails.
func (s *Service) ImportMeasures(ctx context.Context, op Actor, lines []ImportLine, dryRun bool) (ImportReport, error) {
	if err := s.requireOperator(ctx, op); err != nil {
		return ImportReport{}, err
	}
	pivots, ok := s.store.(PivotStore)
	if !ok {
		return ImportReport{}, fmt.Errorf("import measures: the store cannot find persons by pivot: %w", ErrUnavailable)
	}
	var rep ImportReport
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		im := &importer{s: s, op: op, pivots: pivots, persons: map[string]*importPerson{}, emails: map[string]bool{}, failed: map[int]bool{}, repSaid: map[int]bool{}}
		var err error
		if rep, err = im.run(ctx, lines); err != nil {
			return err
		}
		if len(rep.Problems) > 0 || dryRun {
			return errRollback
		}
		return nil
	})
	if err != nil && !errors.Is(err, errRollback) {
		return ImportReport{}, fmt.Errorf("import measures: %w", err)
	}
	rep.DryRun, rep.Written = dryRun, err == nil
	return rep, nil
}

// importPerson is a represented person of the file: found, or to create.
type importPerson struct {
	person  Person
	created bool
}

// importGroup is one decision of the file and its lines.
type importGroup struct {
	lines  []ImportLine
	person *importPerson
	input  MeasureInput
	known  bool // already registered with the same content
}

// importer is one import's state, inside its transaction.
type importer struct {
	s        *Service
	op       Actor
	pivots   PivotStore
	persons  map[string]*importPerson // by PivotKey
	emails   map[string]bool          // the email keys of the new persons
	problems []ImportProblem
	failed   map[int]bool // lines with a problem
	repSaid  map[int]bool // lines whose representative's problem is reported
	storeErr error        // the first failure of the store
}

// problem records a line's problem; another error is the store's, and
// fails the import.
func (im *importer) problem(line int, err error) {
	var inv *InvalidError
	if !errors.As(err, &inv) {
		if im.storeErr == nil {
			im.storeErr = err
		}
		return
	}
	im.failed[line] = true
	im.problems = append(im.problems, ImportProblem{Line: line, InvalidError: *inv})
}

// run checks every line, then writes the decisions whose lines have no
// problem, so that the report says what the import does, or would do,
// with every good line; the caller rolls back when there is a problem.
func (im *importer) run(ctx context.Context, lines []ImportLine) (ImportReport, error) {
	groups, order := im.group(lines)
	for _, key := range order {
		im.check(ctx, groups[key])
		if im.storeErr != nil {
			return ImportReport{}, im.storeErr
		}
	}
	var rep ImportReport
	im.write(ctx, groups, order, &rep)
	if im.storeErr != nil {
		return ImportReport{}, im.storeErr
	}
	rep.Problems = im.problems
	slices.SortStableFunc(rep.Problems, func(a, b ImportProblem) int { return a.Line - b.Line })
	slices.SortStableFunc(rep.Results, func(a, b ImportResult) int { return a.Line - b.Line })
	return rep, nil
}

// group puts the lines of one decision together, in the file's order.
func (im *importer) group(lines []ImportLine) (map[string]*importGroup, []string) {
	groups := map[string]*importGroup{}
	var order []string
	for _, l := range lines {
		key := l.Decision.Key()
		if strings.TrimSpace(l.Decision.Reference) == "" || strings.TrimSpace(l.Decision.Jurisdiction) == "" {
			key = fmt.Sprintf("line %d", l.Line) // checked alone: its Check names what is missing
		}
		g, ok := groups[key]
		if !ok {
			g = &importGroup{}
			groups[key] = g
			order = append(order, key)
		}
		g.lines = append(g.lines, l)
	}
	return groups, order
}

// check finds every problem of one decision's lines without writing.
func (im *importer) check(ctx context.Context, g *importGroup) {
	first := g.lines[0]
	for _, l := range g.lines[1:] {
		for _, field := range first.disagreements(&l) {
			im.problem(l.Line, invalid(field, RuleDisagrees))
		}
	}
	g.person = im.person(ctx, first)
	in := MeasureInput{Kind: first.Kind, Areas: first.Areas, ValidFrom: first.ValidFrom, ValidUntil: first.ValidUntil, Decision: first.Decision}
	if g.person != nil {
		in.PersonID = g.person.person.ID
	} else {
		in.PersonID = NewID(im.s.now()) // a stand-in, so that only the person's own problems are reported
	}
	for _, l := range g.lines {
		ri := RepresentativeInput{OrganisationID: strings.TrimSpace(l.OrganisationID), Role: l.Role, Areas: l.RepresentativeAreas}
		if email := strings.TrimSpace(l.RepresentativeEmail); email != "" {
			if ri.OrganisationID != "" {
				im.problem(l.Line, invalid("representative", RuleBoth))
				im.repSaid[l.Line] = true
			} else if p, err := im.s.store.PersonByEmail(ctx, email); errors.Is(err, ErrNotFound) {
				im.problem(l.Line, invalid("representative_email", RuleUnknown))
				im.repSaid[l.Line] = true
			} else if err != nil {
				im.problem(l.Line, err)
			} else {
				ri.PersonID = p.ID
			}
		}
		if ri.OrganisationID != "" && IsID(ri.OrganisationID) {
			if err := im.s.orgExists(ctx, ri.OrganisationID); err != nil {
				im.problem(l.Line, err)
				im.repSaid[l.Line] = true
			}
		}
		in.Representatives = append(in.Representatives, ri)
	}
	g.input = in
	for _, p := range in.Check() {
		line := first.Line
		if p.Index > 0 && p.Index <= len(g.lines) {
			line = g.lines[p.Index-1].Line
		}
		if p.Field == "representative" && p.Rule == RuleRequired {
			p.Field = "representative_email" // the file names a representative in one of two columns
		}
		if im.repSaid[line] && (p.Field == "representative" || p.Field == "representative_email" || p.Field == "organisation") {
			continue // already said of this line
		}
		c := *p
		c.Index = 0
		im.problem(line, &c)
	}
	if strings.TrimSpace(first.Decision.Reference) == "" || strings.TrimSpace(first.Decision.Jurisdiction) == "" {
		return
	}
	registered, err := im.s.store.RepresentationsByDecision(ctx, first.Decision.Key())
	if err != nil {
		im.problem(first.Line, err)
		return
	}
	if len(registered) == 0 {
		return
	}
	if g.person != nil && !g.person.created && sameMeasure(registered, &in) {
		g.known = true
		return
	}
	im.problem(first.Line, invalid("decision_reference", RuleRegisteredOtherwise))
}

// person finds the line's person by their identité pivot, or makes the
// one to create; nil after a problem.
func (im *importer) person(ctx context.Context, l ImportLine) *importPerson {
	p := l.Person
	p.ID, p.PasswordHash = NewID(im.s.now()), ""
	if p.BirthPlace.Code != "" && p.BirthCountry == "" {
		p.BirthCountry = FranceCountryCode
	}
	err := p.Validate()
	if err == nil {
		err = checkPivotNames(p)
	}
	if err != nil {
		im.problem(l.Line, err)
		return nil
	}
	key := PivotKey(p)
	if known, ok := im.persons[key]; ok {
		return known
	}
	found, err := im.pivots.PersonsByPivot(ctx, key)
	if err != nil {
		im.problem(l.Line, err)
		return nil
	}
	switch len(found) {
	case 0:
	case 1:
		ip := &importPerson{person: found[0]}
		im.persons[key] = ip
		return ip
	default:
		im.problem(l.Line, invalid("person", RuleSeveralPersons))
		return nil
	}
	if p.Email != "" {
		ek := EmailKey(p.Email)
		if _, err := im.s.store.PersonByEmail(ctx, p.Email); err == nil {
			im.problem(l.Line, invalid("email", RuleEmailTaken))
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			im.problem(l.Line, err)
			return nil
		}
		if im.emails[ek] {
			im.problem(l.Line, invalid("email", RuleEmailTaken))
			return nil
		}
		im.emails[ek] = true
	}
	ip := &importPerson{person: p, created: true}
	im.persons[key] = ip
	return ip
}

// write creates the new persons and registers the new measures of the
// decisions whose lines have no problem, in the file's order. A refusal of
// RegisterMeasure is a problem of the decision's first line; the writes
// go on, so that every refusal is reported (the caller rolls back), unless
// the store refused a write (a decision or an email taken meanwhile),
// which ends a PostgreSQL transaction.
func (im *importer) write(ctx context.Context, groups map[string]*importGroup, order []string, rep *ImportReport) {
	written := map[*importPerson]bool{}
	for _, key := range order {
		g := groups[key]
		if slices.ContainsFunc(g.lines, func(l ImportLine) bool { return im.failed[l.Line] }) {
			continue
		}
		first := g.lines[0].Line
		created := g.person.created && !written[g.person]
		if created {
			if err := im.s.openAccount(ctx, im.op, g.person.person); err != nil {
				im.problem(first, registerProblem(err))
				return
			}
			written[g.person] = true
			rep.PersonsCreated++
		}
		outcome := ImportAlreadyRegistered
		if g.known {
			rep.AlreadyRegistered++
		} else {
			outcome = ImportNewMeasure
			_, err := im.s.RegisterMeasure(ctx, im.op, g.input)
			if errors.Is(err, ErrAlreadyExists) {
				im.problem(first, registerProblem(err))
				return
			}
			if err != nil {
				im.problem(first, err)
				continue
			}
			rep.MeasuresCreated++
		}
		for _, l := range g.lines {
			rep.Results = append(rep.Results, ImportResult{Line: l.Line, Outcome: outcome, PersonID: g.person.person.ID, PersonCreated: g.person.created})
		}
	}
}

// registerProblem is RegisterMeasure's refusal as a line's problem.
func registerProblem(err error) error {
	var ue *UniqueError
	switch {
	case errors.As(err, &ue) && ue.Field == "email":
		return invalid("email", RuleEmailTaken)
	case errors.As(err, &ue):
		return invalid("decision_reference", RuleRegisteredOtherwise)
	}
	return err
}

// openAccount creates the account of a person the operator's import
// names, journaled account.opened in the person's journal.
func (s *Service) openAccount(ctx context.Context, op Actor, p Person) error {
	if err := s.store.CreatePerson(ctx, p); err != nil {
		return err
	}
	return s.emit(ctx, Event{Type: EventAccountOpened, At: s.now(), ActorID: op.PersonID, PersonID: p.ID, Detail: map[string]string{"by": "import"}})
}

// disagreements are the fields of o that differ from l's, for two lines of
// one decision.
func (l *ImportLine) disagreements(o *ImportLine) []string {
	var out []string
	if PivotKey(l.Person) != PivotKey(o.Person) {
		out = append(out, "person")
	}
	if l.Kind != o.Kind {
		out = append(out, "kind")
	}
	if !slices.Equal(SortAreas(l.Areas), SortAreas(o.Areas)) {
		out = append(out, "procedure_areas")
	}
	if !l.ValidFrom.Equal(o.ValidFrom) {
		out = append(out, "valid_from")
	}
	if !l.ValidUntil.Equal(o.ValidUntil) {
		out = append(out, "valid_until")
	}
	if !l.Decision.Date.Equal(o.Decision.Date) {
		out = append(out, "decision_date")
	}
	if l.Decision.Renewal != o.Decision.Renewal {
		out = append(out, "renewal")
	}
	return out
}

// sameMeasure says whether the registered representations of a decision
// are the measure in: the same person, kind, dates, decision and areas,
// and the same representatives in the same roles and areas.
func sameMeasure(registered []Representation, in *MeasureInput) bool {
	if len(registered) != len(in.Representatives) {
		return false
	}
	for _, ri := range in.Representatives {
		areas := in.Areas
		if len(ri.Areas) > 0 {
			areas = ri.Areas
		}
		if !slices.ContainsFunc(registered, func(r Representation) bool {
			d := r.Source.Decision
			return d != nil && r.PersonID == in.PersonID && r.Kind == in.Kind &&
				r.Representative.PersonID == ri.PersonID && r.Representative.OrganisationID == ri.OrganisationID && r.Role == ri.Role &&
				slices.Equal(r.Areas, SortAreas(areas)) && r.ValidFrom.Equal(in.ValidFrom) && r.ValidUntil.Equal(in.ValidUntil) &&
				d.Date.Equal(in.Decision.Date) && d.Renewal == in.Decision.Renewal && len(r.Adjustments) == 0
		}) {
			return false
		}
	}
	return true
}
