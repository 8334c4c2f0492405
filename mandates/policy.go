package mandates

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
)

//go:embed policy/default.policy
var defaultPolicy []byte

// DefaultPolicyFile is the policy file Relais ships, for a deployment to
// copy and adapt.
func DefaultPolicyFile() []byte { return bytes.Clone(defaultPolicy) }

// Policy is the table of what each party may do under each kind, loaded
// from a versioned file (policy/default.policy) that a deployment can
// replace. It is read-only once parsed and safe for concurrent use.
type Policy struct {
	Version string
	cells   map[policyKey][3]Decision // consult, manage, dispose
	givers  map[Kind]Giver            // who gives a mandate or a proxy under each measure
}

type policyKey struct {
	kind  Kind
	party string // "person" or a Role
}

// PolicyError names the line of a policy file and what is wrong with it.
type PolicyError struct {
	Line    int
	Problem string
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("policy line %d: %s", e.Line, e.Problem)
}

// DefaultPolicy is the policy Relais ships. It cannot fail: a test parses
// the embedded file.
func DefaultPolicy() *Policy {
	p, err := ParsePolicy(defaultPolicy)
	if err != nil {
		panic("mandates: the embedded default policy is invalid: " + err.Error())
	}
	return p
}

// ParsePolicy reads a policy file. It returns a *PolicyError for the first
// problem: a malformed line, an unknown kind, role or answer, a repeated
// row, or a missing one (reported at the last line).
func ParsePolicy(b []byte) (*Policy, error) {
	p := &Policy{cells: map[policyKey][3]Decision{}, givers: map[Kind]Giver{}}
	seen := map[policyKey]int{}
	seenGive := map[Kind]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if p.Version == "" {
			if len(f) != 2 || f[0] != "version" {
				return nil, &PolicyError{n, `the first line must be "version" and a version name, e.g. "version 2026-11-29"`}
			}
			p.Version = f[1]
			continue
		}
		if f[0] == "give" {
			k, g, problem := parseGiveRow(f)
			if problem != "" {
				return nil, &PolicyError{n, problem}
			}
			if first, dup := seenGive[k]; dup {
				return nil, &PolicyError{n, fmt.Sprintf("give %s is given twice (first on line %d)", k, first)}
			}
			seenGive[k], p.givers[k] = n, g
			continue
		}
		if len(f) != 5 {
			return nil, &PolicyError{n, fmt.Sprintf("want 5 words (kind, party, consult, manage, dispose), found %d", len(f))}
		}
		kind := Kind(f[0])
		if !kind.Valid() {
			return nil, &PolicyError{n, fmt.Sprintf("%q is not a kind of representation", f[0])}
		}
		if f[1] != string(PartyPerson) && !Role(f[1]).ValidFor(kind) {
			return nil, &PolicyError{n, fmt.Sprintf("%q is neither person nor a role under %s", f[1], kind)}
		}
		key := policyKey{kind, f[1]}
		if first, dup := seen[key]; dup {
			return nil, &PolicyError{n, fmt.Sprintf("%s %s is given twice (first on line %d)", kind, f[1], first)}
		}
		seen[key] = n
		var row [3]Decision
		for i, w := range f[2:] {
			d := Decision(w)
			if !d.Valid() {
				return nil, &PolicyError{n, fmt.Sprintf("%q is not an answer: use allowed, cosign or no", w)}
			}
			row[i] = d
		}
		p.cells[key] = row
	}
	if err := sc.Err(); err != nil {
		return nil, &PolicyError{n + 1, err.Error()}
	}
	if p.Version == "" {
		return nil, &PolicyError{max(n, 1), "the file is empty: it needs a version line and one row per kind and party"}
	}
	for _, k := range Kinds {
		if _, ok := p.givers[k]; k.IsMeasure() && !ok {
			return nil, &PolicyError{n, fmt.Sprintf("the give row for %s is missing (who gives a mandate or a proxy under it)", k)}
		}
		for _, party := range append([]string{string(PartyPerson)}, roleStrings(RolesOf[k])...) {
			if _, ok := p.cells[policyKey{k, party}]; !ok {
				return nil, &PolicyError{n, fmt.Sprintf("the row for %s %s is missing", k, party)}
			}
		}
	}
	return p, nil
}

func roleStrings(rs []Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// Cell is the file's answer for a party ("person" or a role) under a kind.
// Strictly personal acts are the person's alone, whatever the file says.
func (p *Policy) Cell(k Kind, party string, a Action) Decision {
	if a == Personal {
		if party == string(PartyPerson) {
			return Allowed
		}
		return No
	}
	row, ok := p.cells[policyKey{k, party}]
	if !ok {
		return No
	}
	switch a {
	case Consult:
		return row[0]
	case Manage:
		return row[1]
	case Dispose:
		return row[2]
	}
	return No
}

// adjusted applies a decision's adjustments for party, action and area to
// base: an adjustment for the area wins over one for every area, and a
// later one over an earlier one of the same reach.
func adjusted(base Decision, adjs []Adjustment, party Party, a Action, area Area) (Decision, bool) {
	if a == Personal {
		return base, false
	}
	d, found, specific := base, false, false
	for _, adj := range adjs {
		if adj.Party != party || adj.Action != a || (adj.Area != "" && adj.Area != area) {
			continue
		}
		if adj.Area == "" && specific {
			continue
		}
		d, found, specific = adj.Decision, true, adj.Area != ""
	}
	return d, found
}

// RepresentativeDecision is what the representative of r may do for action
// a in area: the file's cell for r's role, the decision's adjustments, and
// for a proxy what the person granted. It does not look at status, dates
// or areas covered: Decide does.
func (p *Policy) RepresentativeDecision(r *Representation, a Action, area Area) Decision {
	d, _ := p.representativeDecision(r, a, area)
	return d
}

func (p *Policy) representativeDecision(r *Representation, a Action, area Area) (Decision, bool) {
	if a == Personal {
		return No, false
	}
	if r.Kind == Proxy && !containsAction(r.Granted, a) {
		return No, false
	}
	return adjusted(p.Cell(r.Kind, string(r.Role), a), r.Adjustments, PartyRepresentative, a, area)
}

// PersonDecision is what the represented person may do alone for action a
// in area under r (inside the areas r covers).
func (p *Policy) PersonDecision(r *Representation, a Action, area Area) Decision {
	d, _ := adjusted(p.Cell(r.Kind, string(PartyPerson), a), r.Adjustments, PartyPerson, a, area)
	return d
}

// Actions is what r's representative may do in area, by action class, as
// a token's representation claim says it. With area empty, adjustments for
// one area are left out.
func (p *Policy) Actions(r *Representation, area Area) map[Action]Decision {
	out := make(map[Action]Decision, len(Actions))
	for _, a := range Actions {
		out[a] = p.RepresentativeDecision(r, a, area)
	}
	return out
}

func containsAction(as []Action, a Action) bool {
	for _, v := range as {
		if v == a {
			return true
		}
	}
	return false
}
