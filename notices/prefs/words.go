package prefs

import (
	"fmt"
	"time"

	"github.com/relais-fr/relais/notices"
)

// codeMessage is the message that carries a code to a new address or
// number, in plain words (PLAIN-LANGUAGE.md): what the code is for, where
// to type it, how long it works, and what to do when nobody asked for it.
// The SMS text says the same in at most 160 characters. Nothing in it,
// not even the name on the envelope, says whose letters these are: the
// address or number is not confirmed yet, and a typo would tell a
// stranger.
func codeMessage(id, lang string, at time.Time, c notices.Channel, to, code string, ttl time.Duration) notices.Message {
	minutes := int(ttl.Minutes())
	m := notices.Message{ID: id, Reference: id[len(id)-8:], Lang: lang, Date: at}
	if c == notices.Email {
		m.To.Email = to
	} else {
		m.To.Phone = to
	}
	if lang == "en" {
		m.Subject = "Your Relais code: " + code
		m.Lines = []string{
			"Your code is " + code + ".",
			"Type it on the page “How I receive my letters”.",
			fmt.Sprintf("It works for %d minutes.", minutes),
			"Then your letters from Relais will come to this address.",
			"You did not ask for this? Do nothing: your letters stay on paper.",
		}
		m.Short = fmt.Sprintf("Relais: your code is %s. Type it on the page How I receive my letters. It works for %d minutes.", code, minutes)
		return m
	}
	m.Lang = "fr"
	m.Subject = "Votre code Relais : " + code
	m.Lines = []string{
		"Votre code est " + code + ".",
		"Tapez-le sur la page « Comment je reçois mes courriers ».",
		fmt.Sprintf("Il marche pendant %d minutes.", minutes),
		"Ensuite, vos courriers de Relais arriveront à cette adresse.",
		"Vous n’avez rien demandé ? Ne faites rien : vos courriers restent sur papier.",
	}
	m.Short = fmt.Sprintf("Relais : votre code est %s. Tapez-le sur la page Comment je reçois mes courriers. Il marche %d minutes.", code, minutes)
	return m
}
