package mandates

// The plain words for kinds and roles, in both languages, as pages and
// reasons use them. French needs the article's forms: "le tuteur", "au
// tuteur", "du tuteur".

type kindWords struct {
	label Text // a heading: "Tutelle"
	the   Text // in a sentence: "la tutelle"
	plain Text // what it is, in one plain sentence
}

var kindText = map[Kind]kindWords{
	Tutelle: {Text{"Tutelle", "Guardianship (tutelle)"}, Text{"la tutelle", "guardianship"},
		Text{"Un juge a décidé qu’un tuteur fait les démarches pour la personne.", "A judge decided that a guardian does procedures for the person."}},
	CuratelleSimple: {Text{"Curatelle simple", "Simple curatorship (curatelle simple)"}, Text{"la curatelle simple", "simple curatorship"},
		Text{"Un juge a décidé que la personne agit seule, mais demande l’accord de son curateur pour les actes importants.", "A judge decided that the person acts alone, but needs the curator’s agreement for important acts."}},
	CuratelleRenforcee: {Text{"Curatelle renforcée", "Reinforced curatorship (curatelle renforcée)"}, Text{"la curatelle renforcée", "reinforced curatorship"},
		Text{"Un juge a décidé qu’un curateur aide la personne et gère son argent avec elle.", "A judge decided that a curator helps the person and manages their money with them."}},
	SauvegardeJustice: {Text{"Sauvegarde de justice", "Temporary court protection (sauvegarde de justice)"}, Text{"la sauvegarde de justice", "temporary court protection"},
		Text{"Un juge a nommé une personne pour faire quelques actes précis, pour une courte durée.", "A judge named someone to do a few listed acts, for a short time."}},
	HabilitationAssistance: {Text{"Habilitation familiale d’assistance", "Family authorisation to assist"}, Text{"l’habilitation familiale d’assistance", "the family authorisation to assist"},
		Text{"Un juge a permis à un proche d’aider la personne pour ses actes importants.", "A judge allowed a relative to help the person with important acts."}},
	HabilitationRepresentation: {Text{"Habilitation familiale de représentation", "Family authorisation to represent"}, Text{"l’habilitation familiale de représentation", "the family authorisation to represent"},
		Text{"Un juge a permis à un proche de faire des démarches à la place de la personne.", "A judge allowed a relative to do procedures in the person’s place."}},
	MandatProtectionFuture: {Text{"Mandat de protection future", "Future protection mandate"}, Text{"le mandat de protection future", "the future protection mandate"},
		Text{"La personne a choisi à l’avance qui agirait pour elle. Ce choix s’applique maintenant.", "The person chose in advance who would act for them. That choice now applies."}},
	AidantMandate: {Text{"Mandat d’aidant", "Aidant mandate"}, Text{"le mandat d’aidant", "the aidant mandate"},
		Text{"La personne a donné son accord pour qu’un aidant fasse certaines démarches pour elle.", "The person agreed that an aidant does some procedures for them."}},
	Proxy: {Text{"Procuration", "Proxy"}, Text{"la procuration", "the proxy"},
		Text{"La personne a choisi une personne de confiance pour l’aider dans certaines démarches.", "The person chose someone they trust to help with some procedures."}},
}

// Label is the kind's name, for a heading.
func (k Kind) Label() Text { return kindText[k].label }

// The is the kind's name inside a sentence, with its article.
func (k Kind) The() Text { return kindText[k].the }

// Explain says in one plain sentence what the kind means.
func (k Kind) Explain() Text { return kindText[k].plain }

type roleWords struct {
	label, the, to, of Text
}

func rw(label, the, to, of, en string) roleWords {
	return roleWords{Text{label, en}, Text{the, "the " + en}, Text{to, "the " + en}, Text{of, "the " + en + "’s"}}
}

var roleText = map[Role]roleWords{
	RoleTuteur:            rw("Tuteur ou tutrice", "le tuteur", "au tuteur", "du tuteur", "guardian"),
	RoleCoTuteur:          rw("Co-tuteur ou co-tutrice", "le co-tuteur", "au co-tuteur", "du co-tuteur", "co-guardian"),
	RoleTuteurBiens:       rw("Tuteur aux biens", "le tuteur aux biens", "au tuteur aux biens", "du tuteur aux biens", "guardian of property"),
	RoleTuteurPersonne:    rw("Tuteur à la personne", "le tuteur à la personne", "au tuteur à la personne", "du tuteur à la personne", "personal guardian"),
	RoleSubrogeTuteur:     rw("Subrogé tuteur", "le subrogé tuteur", "au subrogé tuteur", "du subrogé tuteur", "deputy guardian"),
	RoleCurateur:          rw("Curateur ou curatrice", "le curateur", "au curateur", "du curateur", "curator"),
	RoleCoCurateur:        rw("Co-curateur ou co-curatrice", "le co-curateur", "au co-curateur", "du co-curateur", "co-curator"),
	RoleSubrogeCurateur:   rw("Subrogé curateur", "le subrogé curateur", "au subrogé curateur", "du subrogé curateur", "deputy curator"),
	RoleMandataireSpecial: rw("Mandataire spécial", "le mandataire spécial", "au mandataire spécial", "du mandataire spécial", "special representative"),
	RolePersonneHabilitee: rw("Personne habilitée", "la personne habilitée", "à la personne habilitée", "de la personne habilitée", "authorised relative"),
	RoleMandataire:        rw("Mandataire", "le mandataire", "au mandataire", "du mandataire", "agent"),
	RoleAidant:            rw("Aidant ou aidante", "l’aidant", "à l’aidant", "de l’aidant", "aidant"),
	RoleProxyHolder:       rw("Personne de confiance", "la personne de confiance", "à la personne de confiance", "de la personne de confiance", "trusted person"),
}

// Label is the role's name, for a list.
func (r Role) Label() Text { return roleText[r].label }

// The is the role inside a sentence: "le tuteur".
func (r Role) The() Text { return roleText[r].the }

// Label names an action class in plain words.
func (a Action) Label() Text {
	switch a {
	case Consult:
		return Text{"Voir le dossier", "See the file"}
	case Manage:
		return Text{"Faire les démarches courantes", "Do everyday procedures"}
	case Dispose:
		return Text{"Faire les actes importants (vendre, signer un engagement)", "Do important acts (sell, sign a commitment)"}
	case Personal:
		return Text{"Actes personnels (voter, se marier)", "Personal acts (voting, marrying)"}
	}
	return Text{string(a), string(a)}
}

// Label names a decision in plain words.
func (d Decision) Label() Text {
	switch d {
	case Allowed:
		return Text{"oui", "yes"}
	case Cosign:
		return Text{"oui, avec l’accord de l’autre personne", "yes, with the other person’s agreement"}
	}
	return Text{"non", "no"}
}

// Label names a status in plain words.
func (s Status) Label() Text {
	switch s {
	case StatusPending:
		return Text{"Pas encore en vigueur", "Not yet in force"}
	case StatusPendingConsent:
		return Text{"En attente d’accord", "Waiting for agreement"}
	case StatusActive:
		return Text{"En cours", "In force"}
	case StatusSuspended:
		return Text{"En pause", "Paused"}
	case StatusRevoked:
		return Text{"Arrêté", "Stopped"}
	case StatusExpired:
		return Text{"Terminé", "Ended"}
	}
	return Text{string(s), string(s)}
}
