package mandates

import (
	"slices"
)

// Text is a sentence or a label in Relais's two languages.
type Text struct {
	FR, EN string
}

// In returns the text in lang ("fr" or "en"), French by default.
func (t Text) In(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.FR
}

// Area is a procedure area (démarche): the categories that aidants and
// public services already use, with Aidants Connect's codes.
type Area string

// AreaInfo names and explains an area in plain words.
type AreaInfo struct {
	Code        Area
	Label       Text
	Description Text
}

// Areas lists every procedure area, in the order pages show them.
var Areas = []AreaInfo{
	{"papiers", Text{"Papiers, citoyenneté, élections", "Papers, citizenship, elections"},
		Text{"Carte d’identité, passeport, inscription sur les listes électorales.", "Identity card, passport, registering to vote."}},
	{"famille", Text{"Famille, scolarité", "Family, school"},
		Text{"Naissance, mariage, enfants, école, cantine.", "Birth, marriage, children, school, school meals."}},
	{"social", Text{"Social, santé", "Benefits, health"},
		Text{"Aides sociales, allocations, assurance maladie, retraite.", "Social benefits, allowances, health insurance, pension."}},
	{"travail", Text{"Travail, formation", "Work, training"},
		Text{"Recherche d’emploi, chômage, formation.", "Looking for work, unemployment, training."}},
	{"logement", Text{"Logement", "Housing"},
		Text{"Aide au logement, demande de logement social, énergie.", "Housing benefit, social housing, energy."}},
	{"transports", Text{"Transports, mobilité", "Transport, getting around"},
		Text{"Permis de conduire, carte grise, transports en commun.", "Driving licence, car registration, public transport."}},
	{"argent", Text{"Argent, impôts, consommation", "Money, taxes, shopping"},
		Text{"Impôts, banque, dettes, contrats.", "Taxes, bank, debts, contracts."}},
	{"justice", Text{"Justice", "Justice"},
		Text{"Tribunal, plainte, aide juridictionnelle.", "Courts, complaints, legal aid."}},
	{"etranger", Text{"Étranger, Europe", "Foreign nationals, Europe"},
		Text{"Titre de séjour, démarches depuis l’étranger.", "Residence permit, procedures from abroad."}},
	{"loisirs", Text{"Loisirs, sport, culture", "Leisure, sport, culture"},
		Text{"Sport, culture, associations, vacances.", "Sport, culture, clubs, holidays."}},
}

// Info returns the area's labels; ok is false for an unknown code.
func (a Area) Info() (AreaInfo, bool) {
	for _, i := range Areas {
		if i.Code == a {
			return i, true
		}
	}
	return AreaInfo{}, false
}

// Valid says whether a is a known area.
func (a Area) Valid() bool {
	_, ok := a.Info()
	return ok
}

// CheckAreas refuses unknown or repeated areas, naming the first.
func CheckAreas(field string, areas []Area) error {
	for i, a := range areas {
		if !a.Valid() {
			return invalid(field, RuleUnknown)
		}
		if slices.Contains(areas[:i], a) {
			return invalid(field, RuleDuplicate)
		}
	}
	return nil
}

// covers says whether a list of areas, where empty means every area,
// includes a.
func covers(areas []Area, a Area) bool {
	return len(areas) == 0 || slices.Contains(areas, a)
}

// SortAreas puts areas in the order of Areas, for stable storage and pages.
func SortAreas(areas []Area) []Area {
	out := slices.Clone(areas)
	slices.SortFunc(out, func(a, b Area) int { return areaIndex(a) - areaIndex(b) })
	return out
}

func areaIndex(a Area) int {
	for i, v := range Areas {
		if v.Code == a {
			return i
		}
	}
	return len(Areas)
}
