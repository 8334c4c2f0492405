package locales

import (
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/importcsv"
)

// Every rule an import line can break has its own words in both
// languages, never the fallback naming the rule's code.
func TestEveryImportProblemHasItsWords(t *testing.T) {
	rules := []mandates.Rule{mandates.RuleRequired, mandates.RuleTooLong, mandates.RuleTooMany, mandates.RuleFormat, mandates.RuleUnknown,
		mandates.RuleAfter, mandates.RuleMaxYears, mandates.RuleDuplicate, mandates.RuleSelf, mandates.RuleBoth, mandates.RuleForbidden,
		mandates.RuleNamedActs, mandates.RuleSeveralPersons, mandates.RuleRegisteredOtherwise, mandates.RuleDisagrees, mandates.RuleEmailTaken,
		importcsv.RuleMissingColumn, importcsv.RuleUnknownColumn, importcsv.RuleDuplicateColumn, importcsv.RuleFieldCount, importcsv.RuleQuotes,
		importcsv.RuleEmpty}
	for _, r := range rules {
		got := ImportProblem(7, "kind", "kind", r, 5)
		for lang, s := range map[string]string{"fr": got.FR, "en": got.EN} {
			if strings.Contains(s, "breaks the rule") || strings.Contains(s, "ne respecte pas la règle") || strings.Contains(s, "{{") || strings.Contains(s, "<no value>") {
				t.Errorf("%s in %s: %q", r, lang, s)
			}
		}
	}
}

func TestAnImportProblemSaysWhereAndHowToFixIt(t *testing.T) {
	got := ImportProblem(4, "birth_date", "birth_date", mandates.RuleFormat, 0)
	want := Text{"Ligne 4, colonne birth_date : écrivez la date ainsi : 12/03/1948 ou 1948-03-12.",
		"Line 4, column birth_date: write the date like this: 12/03/1948 or 1948-03-12."}
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := ImportProblem(9, "", "line", importcsv.RuleFieldCount, 0); got.FR != "Ligne 9 : la ligne n’a pas autant de valeurs que la première ligne du fichier." {
		t.Errorf("a line's problem: %q", got.FR)
	}
	if got := ImportProblem(3, "valid_until", "valid_until", mandates.RuleMaxYears, 5); !strings.Contains(got.FR, "5 ans au plus") || !strings.Contains(got.EN, "5 years at most") {
		t.Errorf("the limit: %q", got)
	}
}
