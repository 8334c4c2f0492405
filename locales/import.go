package locales

import (
	"strconv"

	"github.com/relais-fr/relais/mandates"
)

// ImportProblem says in plain words what is wrong with one line of a
// measures import, where, and what to do: « Ligne 3, colonne birth_date :
// écrivez la date ainsi… ». column is the file's column ("" for the line
// as a whole); field and rule are the problem's (mandates.ImportProblem).
// The words of a rule for that column win over the rule's own.
func ImportProblem(line int, column, field string, rule mandates.Rule, limit int) Text {
	c := words()
	data := map[string]string{"Line": strconv.Itoa(line), "Column": column, "Limit": strconv.Itoa(limit), "Rule": string(rule)}
	where := "import.where.line"
	if column != "" {
		where = "import.where.column"
		field = column
	}
	one := func(lang string) string {
		l := c.fr
		if lang == "en" {
			l = c.en
		}
		what := say(l, "import.rule."+string(rule)+"."+field, data, "")
		if what == "" {
			what = say(l, "import.rule."+string(rule), data, "")
		}
		if what == "" {
			what = say(l, "import.rule.other", data, string(rule))
		}
		return say(l, where, data, "") + " " + what
	}
	return Text{FR: one("fr"), EN: one("en")}
}
