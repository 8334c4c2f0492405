package importcsv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/relais-fr/relais/mandates"
)

// Columns are the columns a file may have, in the order the documentation
// lists them. A header names each column once, in any order, in any case;
// Required ones must be there, the others may be left out.
var Columns = []string{
	"given_names", "family_name", "preferred_name", "birth_date", "birth_place_code", "birth_place", "birth_country", "gender",
	"address_street", "address_postal_code", "address_locality", "address_country", "email", "phone", "language",
	"kind", "jurisdiction", "decision_reference", "decision_date", "renewal", "valid_from", "valid_until", "procedure_areas",
	"representative_email", "representative_organisation", "role", "representative_areas",
}

// Required are the columns every file has.
var Required = []string{"given_names", "family_name", "birth_date", "gender", "kind", "jurisdiction", "decision_reference",
	"decision_date", "valid_from", "role"}

// MaxLines bounds the lines of one file: a court registry's yearly export
// fits, and one transaction stays short enough for the other writers.
const MaxLines = 5000

// Column is the column a problem is in: the one the reader names, or the
// one a field of the domain is read from; "" for the line as a whole.
func Column(p mandates.ImportProblem) string {
	switch p.Rule {
	case RuleUnknownColumn, RuleMissingColumn, RuleDuplicateColumn:
		return p.Field
	}
	switch p.Field {
	case "birth_place":
		return "birth_place_code"
	case "decision_jurisdiction":
		return "jurisdiction"
	case "representative", "representatives":
		return "representative_email"
	case "organisation":
		return "representative_organisation"
	case "person":
		return "given_names"
	}
	if slices.Contains(Columns, p.Field) {
		return p.Field
	}
	return ""
}

// Problems are the reader's own rules, beside the domain's.
const (
	// RuleMissingColumn, RuleUnknownColumn: the header misses a required
	// column (Field) or names one the format does not have (a column
	// named twice is RuleDuplicateColumn).
	RuleMissingColumn   mandates.Rule = "missing_column"
	RuleUnknownColumn   mandates.Rule = "unknown_column"
	RuleDuplicateColumn mandates.Rule = "duplicate_column"
	// RuleFieldCount: a line has more or fewer values than the header.
	RuleFieldCount mandates.Rule = "field_count"
	// RuleQuotes: a line's quotes are not closed or are misplaced; the
	// lines after it cannot be read.
	RuleQuotes mandates.Rule = "quotes"
	// RuleEmpty: the file has no header, or no line under it.
	RuleEmpty mandates.Rule = "empty"
)

// Import reads the file and hands its lines to the service: the report
// holds the service's outcome for the lines the reader could read, and
// every problem of both. When the reader found a problem, the service
// only says what it would do (a dry run): nothing is stored.
func Import(ctx context.Context, svc *mandates.Service, op mandates.Actor, r io.Reader, dryRun bool) (mandates.ImportReport, error) {
	lines, problems, err := Read(r)
	if err != nil {
		return mandates.ImportReport{}, err
	}
	rep, err := svc.ImportMeasures(ctx, op, lines, dryRun || len(problems) > 0)
	if err != nil {
		return rep, err
	}
	rep.DryRun = dryRun
	rep.Problems = append(rep.Problems, problems...)
	slices.SortStableFunc(rep.Problems, func(a, b mandates.ImportProblem) int { return a.Line - b.Line })
	return rep, nil
}

// Read reads every line of the file it can, and a problem for each value
// it cannot: all of them, not only the first. A problem that stops the
// reading (a header that cannot be read, misplaced quotes) is the last.
// It fails only when r does.
func Read(r io.Reader) ([]mandates.ImportLine, []mandates.ImportProblem, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	first, _ := br.Peek(4096)
	cr := csv.NewReader(br)
	cr.Comma = separator(first)
	cr.FieldsPerRecord = -1 // a line with the wrong count is reported, not fatal
	cr.TrimLeadingSpace = true
	var problems []mandates.ImportProblem
	add := func(line int, field string, rule mandates.Rule) {
		problems = append(problems, mandates.ImportProblem{Line: line, InvalidError: mandates.InvalidError{Field: field, Rule: rule}})
	}
	header, err := cr.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		add(1, "header", RuleEmpty)
		return nil, problems, nil
	case errors.As(err, &pe):
		add(1, "header", RuleQuotes)
		return nil, problems, nil
	case err != nil:
		return nil, nil, fmt.Errorf("read the file: %w", err)
	}
	cols := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[name]; dup {
			add(1, name, RuleDuplicateColumn)
			continue
		}
		if !slices.Contains(Columns, name) {
			add(1, name, RuleUnknownColumn)
			continue
		}
		cols[name] = i
	}
	for _, name := range Required {
		if _, ok := cols[name]; !ok {
			add(1, name, RuleMissingColumn)
		}
	}
	_, byEmail := cols["representative_email"]
	_, byOrg := cols["representative_organisation"]
	if !byEmail && !byOrg {
		add(1, "representative_email", RuleMissingColumn)
	}
	if len(problems) > 0 {
		return nil, problems, nil
	}
	var lines []mandates.ImportLine
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &pe) {
			add(pe.StartLine, "line", RuleQuotes)
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read the file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(lines)+len(problems) >= MaxLines {
			add(line, "line", mandates.RuleTooMany)
			break
		}
		if len(rec) != len(header) {
			add(line, "line", RuleFieldCount)
			continue
		}
		l, lp := parseLine(line, rec, cols)
		if len(lp) > 0 {
			problems = append(problems, lp...)
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 && len(problems) == 0 {
		add(1, "line", RuleEmpty)
	}
	return lines, problems, nil
}

// separator is « ; » when the header has more of them than commas, as a
// French spreadsheet writes it, else « , ».
func separator(first []byte) rune {
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		return ';'
	}
	return ','
}

func blank(rec []string) bool {
	return !slices.ContainsFunc(rec, func(v string) bool { return strings.TrimSpace(v) != "" })
}

// parseLine reads one line's values: every problem of the line, at most
// one per column.
func parseLine(n int, rec []string, cols map[string]int) (mandates.ImportLine, []mandates.ImportProblem) {
	var problems []mandates.ImportProblem
	bad := func(col string, rule mandates.Rule) {
		problems = append(problems, mandates.ImportProblem{Line: n, InvalidError: mandates.InvalidError{Field: col, Rule: rule}})
	}
	get := func(col string) string {
		i, ok := cols[col]
		if !ok {
			return ""
		}
		v := strings.TrimSpace(rec[i])
		if !utf8.ValidString(v) {
			bad(col, mandates.RuleFormat)
			return ""
		}
		return v
	}
	date := func(col string) time.Time {
		v := get(col)
		if v == "" {
			return time.Time{}
		}
		t, ok := parseDate(v)
		if !ok {
			bad(col, mandates.RuleFormat)
		}
		return t
	}
	areas := func(col string) []mandates.Area {
		var out []mandates.Area
		for _, a := range strings.FieldsFunc(get(col), func(r rune) bool { return r == ' ' || r == '|' || r == ',' || r == ';' }) {
			out = append(out, mandates.Area(strings.ToLower(a)))
		}
		return out
	}
	l := mandates.ImportLine{Line: n}
	p := &l.Person
	p.GivenNames, p.FamilyName, p.PreferredName = get("given_names"), get("family_name"), get("preferred_name")
	p.BirthDate = date("birth_date")
	p.BirthPlace = mandates.Place{Code: strings.ToUpper(get("birth_place_code")), Label: get("birth_place")}
	p.BirthCountry = get("birth_country")
	switch g := strings.ToLower(get("gender")); g {
	case "female", "f", "femme", "féminin", "feminin":
		p.Gender = mandates.GenderFemale
	case "male", "m", "h", "homme", "masculin":
		p.Gender = mandates.GenderMale
	case "":
		bad("gender", mandates.RuleRequired)
	default:
		bad("gender", mandates.RuleUnknown)
	}
	p.Address = mandates.Address{Street: get("address_street"), PostalCode: get("address_postal_code"), Locality: get("address_locality"), Country: get("address_country")}
	p.Email, p.Phone, p.Language = get("email"), get("phone"), strings.ToLower(get("language"))
	l.Kind = mandates.Kind(strings.ToLower(get("kind")))
	if l.Kind != "" && !l.Kind.IsMeasure() {
		// Said here too, so that a line with another bad value has this
		// one reported with it (the service sees only readable lines).
		bad("kind", mandates.RuleUnknown)
	}
	l.Areas = areas("procedure_areas")
	l.ValidFrom, l.ValidUntil = date("valid_from"), date("valid_until")
	l.Decision = mandates.CourtDecision{Jurisdiction: get("jurisdiction"), Reference: get("decision_reference"), Date: date("decision_date")}
	switch strings.ToLower(get("renewal")) {
	case "", "non", "no", "false", "0":
	case "oui", "yes", "true", "1":
		l.Decision.Renewal = true
	default:
		bad("renewal", mandates.RuleUnknown)
	}
	l.RepresentativeEmail, l.OrganisationID = get("representative_email"), get("representative_organisation")
	l.Role = mandates.Role(strings.ToLower(get("role")))
	l.RepresentativeAreas = areas("representative_areas")
	return l, problems
}

// parseDate reads a date as a registry writes it: 2027-03-12, or
// 12/03/2027 as a French spreadsheet shows it.
func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.DateOnly, "02/01/2006"} {
		if t, err := time.Parse(layout, v); err == nil && len(v) == len(layout) {
			return t, true
		}
	}
	return time.Time{}, false
}

// Describe is a problem as a log line or a test's message names it:
// « line 3, column birth_date: format ».
func Describe(p mandates.ImportProblem) string {
	if col := Column(p); col != "" {
		return fmt.Sprintf("line %d, column %s: %s", p.Line, col, p.Rule)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Rule)
}
