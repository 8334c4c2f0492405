package mandates

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// curatelleInput is a valid registration: Ahmed's curatelle renforcée,
// Karim his curateur, for five years.
func curatelleInput() MeasureInput {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	return MeasureInput{Kind: CuratelleRenforcee, PersonID: NewID(from),
		Representatives: []RepresentativeInput{{PersonID: NewID(from.Add(time.Second)), Role: RoleCurateur}},
		Areas:           []Area{"argent"}, ValidFrom: from, ValidUntil: from.AddDate(5, 0, 0),
		Decision: CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Reference: "RG 26/10001", Date: from.AddDate(0, -1, 0)}}
}

// problem is one expected problem, written field/rule/index.
type problem struct {
	Field string
	Rule  Rule
	Index int
}

func problemsOf(in MeasureInput) []problem {
	var out []problem
	for _, inv := range in.Check() {
		out = append(out, problem{inv.Field, inv.Rule, inv.Index})
	}
	return out
}

func TestMeasureInputCheck(t *testing.T) {
	org := NewID(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name   string
		change func(*MeasureInput)
		want   []problem // nil: accepted
	}{
		{"a complete curatelle is accepted", func(*MeasureInput) {}, nil},
		{"a mandat de protection future may have no end", func(m *MeasureInput) {
			m.Kind, m.ValidUntil, m.Representatives[0].Role = MandatProtectionFuture, time.Time{}, RoleMandataire
		}, nil},
		{"an organisation as representative is accepted", func(m *MeasureInput) {
			m.Representatives[0] = RepresentativeInput{OrganisationID: org, Role: RoleCurateur}
		}, nil},
		{"an adjustment of its own is accepted", func(m *MeasureInput) {
			m.Adjustments = []Adjustment{{Party: PartyPerson, Action: Manage, Decision: Allowed, Note: strings.Repeat("a", MaxNote)}}
		}, nil},
		{"an unknown kind is refused", func(m *MeasureInput) { m.Kind = "tutelle_magique" }, []problem{{"kind", RuleUnknown, 0}}},
		{"an aidant mandate is not a court measure", func(m *MeasureInput) { m.Kind = AidantMandate }, []problem{{"kind", RuleUnknown, 0}}},
		{"the person is required", func(m *MeasureInput) { m.PersonID = "" }, []problem{{"person", RuleRequired, 0}}},
		{"no representative is refused", func(m *MeasureInput) { m.Representatives = nil }, []problem{{"representatives", RuleRequired, 0}}},
		{"a representative is a person or an organisation, not both", func(m *MeasureInput) { m.Representatives[0].OrganisationID = org },
			[]problem{{"representative", RuleBoth, 1}}},
		{"a representative is someone", func(m *MeasureInput) { m.Representatives[0].PersonID = "" }, []problem{{"representative", RuleRequired, 1}}},
		{"an organisation is named by its id", func(m *MeasureInput) {
			m.Representatives[0] = RepresentativeInput{OrganisationID: "mjpm", Role: RoleCurateur}
		}, []problem{{"organisation", RuleFormat, 1}}},
		{"nobody represents themselves", func(m *MeasureInput) { m.Representatives[0].PersonID = m.PersonID }, []problem{{"representative", RuleSelf, 1}}},
		{"the second representative given twice is refused on its own row", func(m *MeasureInput) {
			m.Representatives = append(m.Representatives, RepresentativeInput{PersonID: m.Representatives[0].PersonID, Role: RoleCoCurateur})
		}, []problem{{"representatives", RuleDuplicate, 2}}},
		{"a role is required", func(m *MeasureInput) { m.Representatives[0].Role = "" }, []problem{{"role", RuleRequired, 1}}},
		{"an unknown role is refused", func(m *MeasureInput) { m.Representatives[0].Role = "roi" }, []problem{{"role", RuleUnknown, 1}}},
		{"a role of another measure is refused", func(m *MeasureInput) { m.Representatives[0].Role = RoleTuteur }, []problem{{"role", RuleForbidden, 1}}},
		{"an unknown area is refused", func(m *MeasureInput) { m.Areas = []Area{"social", "lune"} }, []problem{{"procedure_areas", RuleUnknown, 0}}},
		{"an area given twice is refused", func(m *MeasureInput) { m.Areas = []Area{"social", "social"} }, []problem{{"procedure_areas", RuleDuplicate, 0}}},
		{"the start is required", func(m *MeasureInput) { m.ValidFrom = time.Time{} }, []problem{{"valid_from", RuleRequired, 0}}},
		{"the end is required for a curatelle", func(m *MeasureInput) { m.ValidUntil = time.Time{} }, []problem{{"valid_until", RuleRequired, 0}}},
		{"an end on the start is refused", func(m *MeasureInput) { m.ValidUntil = m.ValidFrom }, []problem{{"valid_until", RuleAfter, 0}}},
		{"an end before the start is refused", func(m *MeasureInput) { m.ValidUntil = m.ValidFrom.AddDate(0, 0, -1) }, []problem{{"valid_until", RuleAfter, 0}}},
		{"no start and no end are two problems", func(m *MeasureInput) { m.ValidFrom, m.ValidUntil = time.Time{}, time.Time{} },
			[]problem{{"valid_from", RuleRequired, 0}, {"valid_until", RuleRequired, 0}}},
		{"the court, the number and the date are each required", func(m *MeasureInput) { m.Decision = CourtDecision{} },
			[]problem{{"decision_jurisdiction", RuleRequired, 0}, {"decision_reference", RuleRequired, 0}, {"decision_date", RuleRequired, 0}}},
		{"a decision number over its limit is refused", func(m *MeasureInput) { m.Decision.Reference = strings.Repeat("9", MaxReference+1) },
			[]problem{{"decision_reference", RuleTooLong, 0}}},
		{"an adjustment's problems are each on its own field and row", func(m *MeasureInput) {
			m.Adjustments = []Adjustment{{Party: PartyPerson, Action: Manage, Decision: Allowed},
				{Party: "judge", Area: "lune", Action: Personal, Decision: "maybe", Note: strings.Repeat("a", MaxNote+1)}}
		}, []problem{{"adjustments.party", RuleUnknown, 2}, {"adjustments.area", RuleUnknown, 2}, {"adjustments.action", RuleForbidden, 2},
			{"adjustments.decision", RuleUnknown, 2}, {"adjustments.note", RuleTooLong, 2}}},
		{"an adjustment's act is one of the three", func(m *MeasureInput) {
			m.Adjustments = []Adjustment{{Party: PartyRepresentative, Action: "vote", Decision: No}}
		}, []problem{{"adjustments.action", RuleUnknown, 1}}},
		{"every problem of a form comes at once, in its order", func(m *MeasureInput) {
			m.Kind, m.PersonID, m.Representatives, m.ValidFrom = "", "", nil, time.Time{}
		}, []problem{{"kind", RuleUnknown, 0}, {"person", RuleRequired, 0}, {"representatives", RuleRequired, 0}, {"valid_from", RuleRequired, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := curatelleInput()
			tt.change(&in)
			if got := problemsOf(in); !slices.Equal(got, tt.want) {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMeasureInputCheckKeepsTheLimitOfATooLongNote(t *testing.T) {
	in := curatelleInput()
	in.Adjustments = []Adjustment{{Party: PartyPerson, Action: Manage, Decision: Allowed, Note: strings.Repeat("a", MaxNote+1)}}
	got := in.Check()
	if len(got) != 1 || got[0].Limit != 500 {
		t.Errorf("Check = %v, want one note problem with the limit 500", got)
	}
}
