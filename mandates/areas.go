package mandates

import (
	"slices"
)

// Area is a procedure area (démarche): the categories that aidants and
// public services already use, with Aidants Connect's codes. The package
// locales names and explains each in plain words.
type Area string

// Areas lists every procedure area, in the order pages show them.
var Areas = []Area{"papiers", "famille", "social", "travail", "logement", "transports", "argent", "justice", "etranger", "loisirs"}

// Valid says whether a is a known area.
func (a Area) Valid() bool { return slices.Contains(Areas, a) }

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
		if v == a {
			return i
		}
	}
	return len(Areas)
}
