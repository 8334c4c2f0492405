package locales

import (
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/mandates"
)

// Reason words why the policy answered as it did, in both languages:
// the sentence of r's code with the kinds and roles it names, followed by
// a word on the court decision when it changed the default. The zero
// Reason is empty.
func Reason(r mandates.Reason) Text {
	w := words()
	return Text{FR: reason(w.fr, r, "fr"), EN: reason(w.en, r, "en")}
}

// HowToAgree says how a site obtains the agreement of party for an act
// the policy answered cosign for.
func HowToAgree(party mandates.Party) Text {
	if party == mandates.PartyRepresentative {
		return both("agreement.how.representative", "")
	}
	return both("agreement.how.person", "")
}

// reason words r with l, whose language is lang.
func reason(l *i18n.Localizer, r mandates.Reason, lang string) string {
	if r.Code == "" {
		return ""
	}
	form := func(id string) string { return both(id, "").In(lang) }
	party := "reason.party.person"
	if r.Party == mandates.PartyRepresentative {
		party = "reason.party.representative"
	}
	data := map[string]string{
		"Kind":          form("kind." + string(r.Kind) + ".the"),
		"Role":          form("role." + string(r.Role) + ".the"),
		"RoleTo":        form("role." + string(r.Role) + ".to"),
		"RoleOf":        form("role." + string(r.Role) + ".of"),
		"Measure":       form("kind." + string(r.MeasureKind) + ".the"),
		"MeasureRole":   form("role." + string(r.MeasureRole) + ".the"),
		"MeasureRoleOf": form("role." + string(r.MeasureRole) + ".of"),
		"Party":         form(party),
	}
	s := say(l, "reason."+string(r.Code), data, string(r.Code))
	if r.Judge {
		s += " " + form("reason.judge")
	}
	return s
}
