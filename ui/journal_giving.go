package ui

import (
	"slices"
	"strings"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// The journal's sentences for who gave a mandate or a proxy, and how
// (issue 12): a consent names who consented and how (their login, a code
// sent to their phone, a paper signed before an aidant, or their
// representative for them), an agreement or a refusal names the
// representative and their role, a refused request says what and why.
// Entries written before consents named who gave them keep a sentence
// that is true: the person consented, before the aidant who was the
// entry's actor.

// toKind and ofKind put a kind with its article after « à » and « de »,
// as French contracts them: « au mandat d’aidant », « du mandat
// d’aidant », « à la procuration ». English: "to the aidant mandate".
func toKind(lang, the string) string {
	if lang == "en" {
		return "to " + the
	}
	switch {
	case strings.HasPrefix(the, "le "):
		return "au " + strings.TrimPrefix(the, "le ")
	case strings.HasPrefix(the, "les "):
		return "aux " + strings.TrimPrefix(the, "les ")
	}
	return "à " + the
}

func ofKind(lang, the string) string {
	if lang == "en" {
		return "of " + the
	}
	switch {
	case strings.HasPrefix(the, "le "):
		return "du " + strings.TrimPrefix(the, "le ")
	case strings.HasPrefix(the, "les "):
		return "des " + strings.TrimPrefix(the, "les ")
	}
	return "de " + the
}

// personViews are the representations of the person whose journal it is,
// read once a page: the journal's reader may read that journal, so may
// read who gave or refused what in it.
func (v *journalView) personViews(personID string) []mandates.View {
	if personID == "" {
		return nil
	}
	if vs, ok := v.of[personID]; ok {
		return vs
	}
	vs, err := v.s.mandates.Service.Of(v.r.Context(), personID)
	if err != nil {
		vs = nil
	}
	if v.of == nil {
		v.of = map[string][]mandates.View{}
	}
	v.of[personID] = vs
	return vs
}

// viewOf is the entry's representation, from the person's.
func (v *journalView) viewOf(e journal.Stored) *mandates.View {
	vs := v.personViews(e.PersonID)
	if i := slices.IndexFunc(vs, func(x mandates.View) bool { return x.ID == e.RepresentationID }); i >= 0 {
		return &vs[i]
	}
	return nil
}

// representativeWho names a representative who answered for the person:
// « Marie Martin, tutrice, », « Marie Martin, votre tutrice, » in the
// person's own journal, their name alone when the role is unknown.
func (v *journalView) representativeWho(id string, role mandates.Role, own bool) string {
	name := v.person(id)
	if name == "" {
		return v.msg("journal.someone", nil)
	}
	if _, ok := roleNouns[role]; !ok {
		return name
	}
	var g mandates.Gender
	if p, err := v.s.mandates.Service.Person(v.r.Context(), id); err == nil {
		g = p.Gender
	}
	noun := roleNoun(role, g, v.lang)
	if own {
		noun = v.msg("giving.your", map[string]any{"Role": noun})
	}
	return v.msg("journal.actor_role", map[string]any{"Name": name, "Role": noun})
}

// givingSentence is the sentence of a consent, an agreement, a refusal or
// a refused request about a mandate or a proxy; false leaves the entry to
// the general sentences (an entry whose detail was erased, say).
func (v *journalView) givingSentence(e journal.Stored, fields map[string]string) (string, bool) {
	switch {
	case fields == nil:
		return "", false
	case e.Type == mandates.EventDeclined && fields["by"] != "representative":
		return "", false
	case e.Type != mandates.EventConsentGiven && e.Type != mandates.EventAgreed && e.Type != mandates.EventDeclined && e.Type != mandates.EventRefused:
		return "", false
	}
	rep := v.viewOf(e)
	kind := mandates.Proxy
	switch {
	case rep != nil:
		kind = rep.Kind
	case e.Type == mandates.EventConsentGiven || e.OrganisationID != "":
		// Only an aidant mandate is consented to, or held by an organisation.
		kind = mandates.AidantMandate
	}
	the := locales.KindThe(kind).In(v.lang)
	data := map[string]any{"Kind": the, "ToKind": toKind(v.lang, the), "Person": v.person(e.PersonID),
		"Own": e.PersonID == v.viewer, "Org": v.orgName(e, rep)}
	form := "other"
	if e.ActorID != "" && e.ActorID == v.viewer {
		form = "you"
	}
	switch e.Type {
	case mandates.EventConsentGiven:
		return v.consentSentence(e, fields, data), true
	case mandates.EventAgreed:
		key := "journal.giving.agreed."
		if fields["rule"] == string(mandates.GivenByRepresentative) {
			key = "journal.giving.consent.representative."
		}
		data["Who"] = v.representativeWho(e.ActorID, mandates.Role(fields["role"]), e.PersonID == v.viewer)
		return v.msg(key+form, data), true
	case mandates.EventDeclined:
		data["Who"] = v.representativeWho(e.ActorID, mandates.Role(fields["role"]), e.PersonID == v.viewer)
		return v.msg("journal.giving.declined."+form, data), true
	case mandates.EventRefused:
		return v.refusedSentence(e, fields, data, kind, form)
	}
	return "", false
}

// consentSentence: who consented to a mandate, and how.
func (v *journalView) consentSentence(e journal.Stored, fields map[string]string, data map[string]any) string {
	method := mandates.ConsentMethod(fields["method"])
	if method == mandates.ConsentByRepresentative {
		giver := fields["given_by"]
		if giver == "" {
			giver = e.ActorID
		}
		if giver == v.viewer {
			return v.msg("journal.giving.consent.representative.you", data)
		}
		data["Who"] = v.representativeWho(giver, mandates.Role(fields["role"]), e.PersonID == v.viewer)
		return v.msg("journal.giving.consent.representative.other", data)
	}
	// The person consented; before consents named who gave them, the
	// entry's actor was the aidant who witnessed it.
	consenter, witness := fields["given_by"], fields["witness"]
	if consenter == "" {
		consenter = e.PersonID
	}
	if witness == "" && e.ActorID != consenter {
		witness = e.ActorID
	}
	form := "other"
	if consenter == v.viewer {
		form = "you"
	}
	switch method {
	case mandates.ConsentInPersonLogin:
		data["How"] = v.msg("journal.giving.how.in_person_login."+form, nil)
	case mandates.ConsentRemoteCode:
		data["How"] = v.msg("journal.giving.how.remote_code", map[string]any{"Phone": fields["phone_end"]})
	case mandates.ConsentInPersonAttestation:
		w := v.person(witness)
		if witness != "" && witness == v.viewer {
			w = v.msg("journal.giving.you", nil)
		}
		data["How"] = v.msg("journal.giving.how.in_person_attestation", map[string]any{"Witness": w})
	default:
		data["How"] = ""
	}
	who := v.person(consenter)
	if who == "" {
		who = v.msg("journal.someone", nil)
	}
	data["Who"] = who
	return v.msg("journal.giving.consent.person."+form, data)
}

// refusedSentence: what was asked, and why Relais refused it.
func (v *journalView) refusedSentence(e journal.Stored, fields map[string]string, data map[string]any, kind mandates.Kind, form string) (string, bool) {
	what := "mandate"
	if kind == mandates.Proxy {
		what = "proxy"
	}
	actor := v.person(e.ActorID)
	if actor == "" {
		actor = v.msg("journal.someone", nil)
	}
	data["Actor"] = actor
	data["ForPerson"] = e.ActorID != e.PersonID
	switch fields["reason"] {
	case "representative_gives":
		data["Giver"], data["GiverYou"] = v.msg("journal.giving.the_representative", nil), false
		if h, ok, err := v.s.holderIn(v.r.Context(), v.personViews(e.PersonID), fields["measure_id"]); err == nil && ok {
			wform := "bare"
			if e.PersonID == v.viewer {
				wform = "your"
			}
			// « Marie Martin, votre tutrice, donne… »
			data["Giver"], data["GiverYou"] = h.words(v.loc, v.lang, wform, v.person(e.PersonID))+",", h.PersonID != "" && h.PersonID == v.viewer
		}
		return v.msg("journal.giving.refused.gives_"+what+"."+form, data), true
	case "duplicate":
		holder := ""
		if rep := v.viewOf(e); rep != nil {
			holder = rep.RepresentativeOf
		}
		if holder == "" {
			holder = v.msg("journal.someone", nil)
		}
		data["Holder"] = holder
		return v.msg("journal.giving.refused.duplicate_"+what+"."+form, data), true
	}
	return "", false
}

// orgName is the organisation an entry names, or "" when unknown.
func (v *journalView) orgName(e journal.Stored, rep *mandates.View) string {
	if rep != nil && rep.Organisation != nil {
		return rep.Organisation.Name
	}
	if e.OrganisationID == "" {
		return ""
	}
	for _, x := range v.personViews(e.PersonID) {
		if x.Organisation != nil && x.Organisation.ID == e.OrganisationID {
			return x.Organisation.Name
		}
	}
	if o, err := v.s.mandates.Service.Organisation(v.r.Context(), v.viewer, e.OrganisationID); err == nil {
		return o.Name
	}
	return ""
}
