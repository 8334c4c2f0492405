package locales

import (
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

func TestReasonsSayWhyWithTheWordsTheyName(t *testing.T) {
	tests := []struct {
		name   string
		reason mandates.Reason
		want   Text
	}{
		{"no reason is empty", mandates.Reason{}, Text{}},
		{"a reason without parameters",
			mandates.Reason{Code: mandates.ReasonNothing},
			Text{"refusé : rien ne permet d’agir pour cette personne.", "refused: nothing lets this actor act for this person."}},
		{"the person needs their curator's agreement",
			mandates.Reason{Code: mandates.ReasonSelfCosign, Kind: mandates.CuratelleRenforcee, Role: mandates.RoleCurateur},
			Text{"refusé : pour cet acte, la curatelle renforcée demande l’accord du curateur.", "refused: for this act, reinforced curatorship needs the curator’s agreement."}},
		{"the tutor does the act, as the court decided",
			mandates.Reason{Code: mandates.ReasonSelfNo, Kind: mandates.Tutelle, Role: mandates.RoleTuteur, Judge: true},
			Text{"refusé : avec la tutelle, le tuteur fait cet acte pour la personne. C’est ce que prévoit la décision du juge.",
				"refused: under guardianship, the guardian does this act for the person. The court decision says so."}},
		{"a representative allowed, with the article's contracted form",
			mandates.Reason{Code: mandates.ReasonAllowed, Kind: mandates.HabilitationRepresentation, Role: mandates.RolePersonneHabilitee},
			Text{"autorisé : l’habilitation familiale de représentation permet à la personne habilitée de faire cet acte.",
				"allowed: the family authorisation to represent lets the authorised relative do this act."}},
		{"a mandate no longer counts once its measure ended",
			mandates.Reason{Code: mandates.ReasonBasisEnded, Kind: mandates.AidantMandate, MeasureKind: mandates.Tutelle},
			Text{"refusé : le mandat d’aidant ne compte plus : la tutelle ne s’applique plus.",
				"refused: the aidant mandate no longer counts: guardianship no longer applies."}},
		{"the measure's representative gives mandates",
			mandates.Reason{Code: mandates.ReasonMeasureGiver, Kind: mandates.Proxy, MeasureKind: mandates.Tutelle, MeasureRole: mandates.RoleTuteur},
			Text{"refusé : avec la tutelle, c’est le tuteur qui donne la procuration. Demandez-lui son accord.",
				"refused: under guardianship, the guardian gives the proxy. Ask them to agree."}},
		{"the measure asks its representative's agreement too",
			mandates.Reason{Code: mandates.ReasonMeasureCosign, Kind: mandates.AidantMandate, MeasureKind: mandates.CuratelleSimple, MeasureRole: mandates.RoleCurateur},
			Text{"refusé : avec la curatelle simple, cet acte demande aussi l’accord du curateur, même avec le mandat d’aidant.",
				"refused: under simple curatorship, this act also needs the curator’s agreement, even with the aidant mandate."}},
		{"the representative's agreement was used",
			mandates.Reason{Code: mandates.ReasonCosignGiven, Party: mandates.PartyRepresentative},
			Text{"autorisé : l’accord du représentant a été donné pour cet acte. Il ne sert qu’une fois.",
				"allowed: the agreement of the representative was given for this act. It can be used once."}},
		{"the person's agreement was used",
			mandates.Reason{Code: mandates.ReasonCosignGiven, Party: mandates.PartyPerson},
			Text{"autorisé : l’accord de la personne protégée a été donné pour cet acte. Il ne sert qu’une fois.",
				"allowed: the agreement of the protected person was given for this act. It can be used once."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reason(tt.reason); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestEveryReasonIsASentenceWithItsWordsFilledIn(t *testing.T) {
	for _, code := range mandates.ReasonCodes {
		r := Reason(mandates.Reason{Code: code, Kind: mandates.Proxy, Role: mandates.RoleProxyHolder,
			MeasureKind: mandates.CuratelleSimple, MeasureRole: mandates.RoleCurateur, Party: mandates.PartyPerson})
		for lang, s := range map[string]string{"fr": r.FR, "en": r.EN} {
			if !strings.HasSuffix(s, ".") || strings.Contains(s, "{{") || strings.Contains(s, "<no value>") || s == string(code) {
				t.Errorf("%s in %s: %q", code, lang, s)
			}
		}
	}
}

func TestHowToAgreeNamesWhoseAgreement(t *testing.T) {
	if got := HowToAgree(mandates.PartyPerson).FR; !strings.Contains(got, "La personne protégée l’accepte") {
		t.Errorf("the person's agreement: %q", got)
	}
	if got := HowToAgree(mandates.PartyRepresentative).EN; !strings.Contains(got, "The representative accepts") {
		t.Errorf("the representative's agreement: %q", got)
	}
}
