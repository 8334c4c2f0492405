package locales

import (
	"fmt"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// AttestationVersion names the wording of the attestation, like Aidants
// Connect's dated mandate templates: a change of words is a new version,
// and the hash kept with each consent says which text was signed.
const AttestationVersion = "2026-12-06"

var monthsFR = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// FormatDate writes a date in full, as people say it: "3 mars 2027", "3
// March 2027". Times are shown in France's time zone.
func FormatDate(t time.Time, lang string) string {
	t = t.In(paris)
	if lang == "en" {
		return t.Format("2 January 2006")
	}
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d", day, monthsFR[t.Month()-1], t.Year())
}

// InFrance is t in France's time zone, as FormatDate shows it.
func InFrance(t time.Time) time.Time { return t.In(paris) }

// BornOn is the words before a birth date inside a sentence, agreeing
// with the person's gender: « née le », « né le », "born on". French has
// no word for an unknown gender (issue 17: never « né ou née »): the
// answer is then empty, and the caller rephrases (« Date de naissance : »).
func BornOn(g mandates.Gender, lang string) string {
	switch {
	case lang == "en":
		return "born on"
	case g == mandates.GenderFemale:
		return "née le"
	case g == mandates.GenderMale:
		return "né le"
	}
	return ""
}

// FormatTime writes an hour as people say it: "14 h 05", "2:05 pm".
func FormatTime(t time.Time, lang string) string {
	t = t.In(paris)
	if lang == "en" {
		return t.Format("3:04 pm")
	}
	return fmt.Sprintf("%d h %02d", t.Hour(), t.Minute())
}

// paris is France's time zone; UTC when the system has no zone database,
// so dates are never wrong by more than the offset.
var paris = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Paris"); err == nil {
		return l
	}
	return time.UTC
}()

// Attestation is the text of the in-person consent the person keeps and
// signs: who may act, for which areas, for how long, and how to stop it.
// It is built before the consent is recorded, and its SHA-256 is kept.
func Attestation(r mandates.Representation, person mandates.Person, org mandates.Organisation, aidant mandates.Person, day time.Time, lang string) string {
	var b strings.Builder
	d := Duration(r.Length())
	if lang == "en" {
		fmt.Fprintf(&b, "Aidant mandate: consent given in person (text of %s)\n\n", AttestationVersion)
		fmt.Fprintf(&b, "I, %s, born on %s, give my consent. The aidants of %s may do some procedures for me.\n\n", mandates.DisplayName(person), FormatDate(person.BirthDate, "en"), org.Name)
		b.WriteString("The procedures they may do for me:\n")
	} else {
		fmt.Fprintf(&b, "Mandat d’aidant : accord donné en personne (texte du %s)\n\n", AttestationVersion)
		// Issue 17: the person's gender when Relais knows it, never « né
		// ou née »; without it, the date on a line of its own.
		if born := BornOn(person.Gender, "fr"); born == "" {
			fmt.Fprintf(&b, "Moi, %s, je donne mon accord.\nMa date de naissance : %s.\nLes aidants de %s peuvent faire certaines démarches pour moi.\n\n",
				mandates.DisplayName(person), FormatDate(person.BirthDate, "fr"), org.Name)
		} else {
			fmt.Fprintf(&b, "Moi, %s, %s %s, je donne mon accord. Les aidants de %s peuvent faire certaines démarches pour moi.\n\n",
				mandates.DisplayName(person), born, FormatDate(person.BirthDate, "fr"), org.Name)
		}
		b.WriteString("Les démarches qu’ils peuvent faire pour moi :\n")
	}
	for _, a := range r.Areas {
		fmt.Fprintf(&b, "- %s\n", Area(a).In(lang))
	}
	if lang == "en" {
		fmt.Fprintf(&b, "\nThis mandate lasts %s from %s.\n", d.EN, FormatDate(day, "en"))
		b.WriteString("I can stop it at any time. I can do it on Relais, on the page “Who can act for me?”, or by asking the organisation.\n")
		fmt.Fprintf(&b, "\nAidant who saw me give my consent: %s, %s.\n", mandates.DisplayName(aidant), org.Name)
		fmt.Fprintf(&b, "Mandate number: %s\n\nSigned on %s.\n\nSignature:\n", r.ID, FormatDate(day, "en"))
	} else {
		fmt.Fprintf(&b, "\nCe mandat dure %s à partir du %s.\n", d.FR, FormatDate(day, "fr"))
		b.WriteString("Je peux l’arrêter quand je veux. Je peux le faire sur Relais, page « Qui peut agir pour moi ? », ou en le demandant à la structure.\n")
		fmt.Fprintf(&b, "\nAidant qui a vu mon accord : %s, %s.\n", mandates.DisplayName(aidant), org.Name)
		fmt.Fprintf(&b, "Numéro du mandat : %s\n\nSigné le %s.\n\nSignature :\n", r.ID, FormatDate(day, "fr"))
	}
	return b.String()
}
