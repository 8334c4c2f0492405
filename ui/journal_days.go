package ui

import (
	"slices"
	"time"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// The journal people read (issue 17): entries grouped by day; an act a
// site reported comes first, with the checks that led to it folded under
// it; the other checks are grouped per day, site and actor, folded in one
// line (« Le site a vérifié 3 fois ce que Marie Martin peut faire »). The
// folds are <details>, which open without script.

// actWindow is how long before an act the site's checks of the same act
// (same site, actor, person and action) are folded under it.
const actWindow = 30 * time.Minute

// journalDay is the entries of one day, newest first.
type journalDay struct {
	Heading string
	Items   []journalItem
}

// journalItem is what the page shows as one entry: an entry, or an act
// with the checks that led to it, or checks alone under their summary.
type journalItem struct {
	journalLine               // empty for checks alone
	Act         bool          // an act a site reported
	Summary     string        // the line that opens the checks
	Checks      []journalLine // folded
}

// sameCheck says whether c is a check a site made before act a, for it:
// the same actor, person, site, action and area.
func sameCheck(a, c journal.Stored) bool {
	if c.Type != mandates.EventAccessEvaluated || c.ClientID != a.ClientID || c.ActorID != a.ActorID || c.PersonID != a.PersonID ||
		c.At.After(a.At) || a.At.Sub(c.At) > actWindow {
		return false
	}
	return fieldOf(c, "action") == fieldOf(a, "action") && slices.Equal(c.Areas, a.Areas)
}

func fieldOf(e journal.Stored, k string) string {
	if e.Detail == nil {
		return ""
	}
	return e.Detail.Fields[k]
}

// days groups es (newest first) by day, folding checks under the act
// they led to, then the rest per day, site and actor.
func (v *journalView) days(es []journal.Stored) []journalDay {
	claimed := make([]bool, len(es))
	folded := map[int][]int{} // an act's index: the checks folded under it
	for i, e := range es {
		if e.Type != mandates.EventActReported {
			continue
		}
		for j := i + 1; j < len(es) && e.At.Sub(es[j].At) <= actWindow; j++ {
			if !claimed[j] && !refusedCheck(es[j]) && sameCheck(e, es[j]) {
				claimed[j] = true
				folded[i] = append(folded[i], j)
			}
		}
	}
	var out []journalDay
	for i, e := range es {
		if claimed[i] {
			continue
		}
		day := locales.FormatDate(e.At, v.lang)
		var it journalItem
		switch e.Type {
		case mandates.EventActReported:
			it = journalItem{journalLine: v.line(e), Act: true}
			for _, j := range folded[i] {
				it.Checks = append(it.Checks, v.line(es[j]))
			}
			if n := len(it.Checks); n > 0 {
				it.Summary = v.msg(plural("journal.checks.before", n), map[string]any{"Count": n})
			}
		case mandates.EventAccessEvaluated:
			if refusedCheck(e) {
				// A refusal is never folded: the person sees who tried
				// what Relais refused (a former tutor, a site).
				it = journalItem{journalLine: v.line(e)}
				break
			}
			for j := i; j < len(es) && locales.FormatDate(es[j].At, v.lang) == day; j++ {
				c := es[j]
				if !claimed[j] && c.Type == mandates.EventAccessEvaluated && !refusedCheck(c) && c.ClientID == e.ClientID && c.ActorID == e.ActorID {
					claimed[j] = true
					it.Checks = append(it.Checks, v.line(c))
				}
			}
			it.Summary = v.checksSummary(e, len(it.Checks))
		default:
			it = journalItem{journalLine: v.line(e)}
		}
		if len(out) == 0 || out[len(out)-1].Heading != v.msg("journal.day", map[string]any{"Date": day}) {
			out = append(out, journalDay{Heading: v.msg("journal.day", map[string]any{"Date": day})})
		}
		out[len(out)-1].Items = append(out[len(out)-1].Items, it)
	}
	return out
}

// refusedCheck is an evaluation Relais answered no to.
func refusedCheck(e journal.Stored) bool {
	return e.Type == mandates.EventAccessEvaluated && e.Detail != nil && e.Detail.Fields["decision"] == "refused"
}

// checksSummary is the line over n checks of e's site about e's actor.
func (v *journalView) checksSummary(e journal.Stored, n int) string {
	data := map[string]any{"Count": n, "Site": v.site(e.ClientID)}
	form := "other"
	switch {
	case e.ActorID != "" && e.ActorID == v.viewer:
		form = "you"
	default:
		name := v.person(e.ActorID)
		if name == "" {
			name = v.msg("journal.someone", nil)
		}
		data["Actor"] = name
	}
	return v.elide(v.msg(plural("journal.checks."+form, n), data))
}

// plural picks the message for one or for several.
func plural(id string, n int) string {
	if n == 1 {
		return id + ".one"
	}
	return id + ".many"
}
