package letter

import (
	"strconv"
	"time"
)

// words are the letter's own words around the message: the date, the
// reference, who to contact and the page numbers, in plain words
// (shared/PLAIN-LANGUAGE.md). The message's words come written already.
type words struct {
	date      func(time.Time) string
	reference string // followed by the reference
	question  string
	call      string // followed by the phone number
	write     string
	page      func(n, of int) string
}

// wordsFor gives the letter's words in lang; French unless lang is "en".
func wordsFor(lang string) words {
	if lang == "en" {
		return words{
			date:      func(t time.Time) string { return t.Format("2 January 2006") },
			reference: "Reference: ",
			question:  "Do you have a question?",
			call:      "Call ",
			write:     "You can also write to:",
			page:      func(n, of int) string { return "Page " + strconv.Itoa(n) + " of " + strconv.Itoa(of) },
		}
	}
	return words{
		date: func(t time.Time) string {
			day := strconv.Itoa(t.Day())
			if t.Day() == 1 {
				day = "1er"
			}
			months := [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
			return "Le " + day + " " + months[t.Month()-1] + " " + strconv.Itoa(t.Year())
		},
		reference: "Référence : ",
		question:  "Vous avez une question ?",
		call:      "Appelez le ",
		write:     "Vous pouvez aussi écrire à :",
		page:      func(n, of int) string { return "Page " + strconv.Itoa(n) + " sur " + strconv.Itoa(of) },
	}
}
