package main

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The site's words, French first, in plain language: one idea a
// sentence, "vous", what is possible before what is not.

// text is one phrase in both languages.
type text struct{ FR, EN string }

func (t text) in(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.FR
}

// words are the page texts; a key missing in one language fails a test.
var words = map[string]text{
	"site_name":        {"Caisse de démonstration", "Caisse de démonstration"},
	"demo_note":        {"Site de démonstration : aucune démarche n’est vraiment faite.", "A demonstration site: no procedure is really done."},
	"skip":             {"Aller au contenu", "Skip to content"},
	"lang_nav":         {"Langue", "Language"},
	"other_lang":       {"English", "Français"},
	"home_title":       {"Vos allocations, en ligne", "Your benefits, online"},
	"home_lead":        {"Sur ce site, vous voyez votre dossier et vous faites vos démarches.", "On this site, you see your file and do your procedures."},
	"home_for_someone": {"Vous pouvez aussi les faire pour une personne que vous représentez : un parent sous tutelle, une personne que vous aidez.", "You can also do them for someone you represent: a relative under guardianship, or a person you help."},
	"login_button":     {"Se connecter avec Relais", "Sign in with Relais"},
	"login_help":       {"Relais vous demande votre adresse e-mail et votre mot de passe. Ensuite, vous choisissez pour qui vous faites la démarche.", "Relais asks for your email address and your password. Then you choose who you are doing the procedure for."},
	"home_signed_in":   {"Vous avez ouvert une session.", "You are signed in."},
	"go_account":       {"Aller au compte", "Go to the account"},
	"relais_space":     {"Votre espace Relais", "Your Relais space"},
	"relais_space_1":   {"Dans votre espace Relais, vous voyez qui peut agir pour vous, et pour qui vous agissez.", "In your Relais space, you see who can act for you, and who you act for."},
	"relais_space_2":   {"Vous pouvez y arrêter une procuration quand vous voulez.", "You can stop a proxy there whenever you want."},
	"relais_space_go":  {"Aller dans mon espace Relais", "Go to my Relais space"},

	"account_title":   {"Compte de %s", "%s’s account"},
	"who_acting":      {"%s, %s, pour %s", "%s, %s, for %s"},
	"who_acting_org":  {"%s, %s (%s), pour %s", "%s, %s (%s), for %s"},
	"who_self":        {"Vous agissez en votre nom.", "You are acting for yourself."},
	"acting_note":     {"Vous agissez pour %s. Les démarches faites ici sont faites pour cette personne.", "You are acting for %s. The procedures done here are done for this person."},
	"allows_title":    {"Ce que vous pouvez faire pour %s", "What you may do for %s"},
	"allows_kind":     {"Vous agissez au titre de : %s.", "You act under: %s."},
	"can":             {"Vous pouvez :", "You may:"},
	"can_with":        {"Avec l’accord de %s, vous pouvez :", "With %s’s agreement, you may:"},
	"cannot":          {"Vous ne pouvez pas :", "You may not:"},
	"until":           {"Ce droit dure jusqu’au %s.", "This right lasts until %s."},
	"areas":           {"Sur ce site, ce droit couvre :", "On this site, this right covers:"},
	"who_acting_bare": {"%s pour %s", "%s for %s"},
	"self_checked":    {"Avant chaque démarche, ce site demande à Relais si vous pouvez la faire.", "Before each procedure, this site asks Relais whether you may do it."},
	"acts_title":      {"Vos démarches", "Your procedures"},
	"acts_lead":       {"Avant chaque démarche, ce site demande à Relais si elle est permise.", "Before each procedure, this site asks Relais whether it is allowed."},
	"logout":          {"Se déconnecter", "Sign out"},
	"someone":         {"la personne représentée", "the person you represent"},
	"your_rep":        {"la personne qui vous représente", "the person who represents you"},
	"for_person":      {"Pour %s.", "For %s."},
	"relais_said":     {"Réponse de Relais : %s", "Relais’s answer: %s"},
	"demo_nothing":    {"Démonstration : rien n’est vraiment envoyé.", "Demonstration: nothing is really sent."},
	"done_title":      {"C’est fait.", "Done."},
	"done_consult":    {"Voici le dossier de %s.", "Here is %s’s file."},
	"file_benefit":    {"Allocation logement", "Housing benefit"},
	"file_amount":     {"245 € par mois", "€245 a month"},
	"file_next":       {"Prochain paiement", "Next payment"},
	"file_next_date":  {"le 5 du mois", "on the 5th of the month"},
	"done_manage":     {"Le changement de situation de %s est déclaré, le %s à %s.", "The change in %s’s situation is reported, on %s at %s."},
	"done_dispose":    {"La demande de remboursement pour %s est envoyée, le %s à %s.", "The request to pay back the overpayment for %s is sent, on %s at %s."},
	"no_title":        {"Cette démarche n’est pas possible.", "This procedure is not possible."},
	"nothing_done":    {"Rien n’a été fait.", "Nothing was done."},
	"cosign_title":    {"Cette démarche demande un accord.", "This procedure needs an agreement."},
	"cosign_who":      {"%s doit donner son accord.", "%s must agree."},
	"cosign_ask":      {"Demander l’accord", "Ask for agreement"},
	"cosign_how":      {"Relais envoie la demande. La personne la voit dans son espace Relais. Elle l’accepte ou la refuse.", "Relais sends the request. The person sees it in their Relais space. They accept or refuse it."},
	"pending_title":   {"La demande d’accord est envoyée.", "The request for agreement is sent."},
	"pending_text":    {"La demande l’attend dans son espace Relais.", "The request is waiting in their Relais space."},
	"pending_until":   {"La demande reste ouverte jusqu’au %s à %s.", "The request stays open until %s at %s."},
	"pending_next":    {"Quand l’accord est donné, revenez ici et choisissez « Vérifier l’accord ».", "When the agreement is given, come back here and choose “Check the agreement”."},
	"check":           {"Vérifier l’accord", "Check the agreement"},
	"still_pending":   {"L’accord n’est pas encore donné. Revenez plus tard.", "The agreement is not given yet. Come back later."},
	"refused_title":   {"L’accord a été refusé.", "The agreement was refused."},
	"refused_text":    {"Vous pouvez en parler avec la personne, puis demander un nouvel accord.", "You can talk about it with the person, then ask for a new agreement."},
	"expired_title":   {"Cet accord n’est plus valable.", "This agreement is no longer valid."},
	"expired_text":    {"Un accord sert une seule fois, pendant 15 minutes. Demandez un nouvel accord.", "An agreement works once, for 15 minutes. Ask for a new agreement."},
	"ask_again":       {"Demander un nouvel accord", "Ask for a new agreement"},
	"back":            {"Retour au compte", "Back to the account"},
	"home_link":       {"Retour à l’accueil", "Back to the home page"},
	"login_again":     {"Se connecter avec Relais", "Sign in with Relais"},
	"result_heading":  {"Résultat", "Result"},
	"result_at":       {"Vérifié auprès de Relais le %s à %s.", "Checked with Relais on %s at %s."},
	"err_refused":     {"Connexion annulée", "Sign-in cancelled"},
	"err_refused_1":   {"Vous avez refusé de partager vos informations avec ce site, ou vous avez arrêté la connexion.", "You refused to share your information with this site, or you stopped signing in."},
	"err_refused_2":   {"Ce site n’a rien reçu. Pour l’utiliser, connectez-vous à nouveau.", "This site received nothing. To use it, sign in again."},
	"err_state":       {"Cette connexion n’est plus valable", "This sign-in is no longer valid"},
	"err_state_1":     {"Cela arrive si vous avez attendu longtemps, ou si vous avez commencé la connexion dans un autre onglet.", "This happens if you waited a long time, or started signing in in another tab."},
	"err_state_2":     {"Rien n’a été fait. Recommencez la connexion.", "Nothing was done. Sign in again."},
	"err_login":       {"La connexion n’a pas abouti", "Signing in did not work"},
	"err_login_1":     {"Relais n’a pas pu confirmer votre connexion.", "Relais could not confirm your sign-in."},
	"err_login_2":     {"Rien n’a été fait. Recommencez la connexion. Si cela se répète, réessayez dans un moment.", "Nothing was done. Sign in again. If this happens again, try again in a moment."},
	"err_expired":     {"Votre session est terminée", "Your session has ended"},
	"err_expired_1":   {"Votre session sur ce site est terminée. Cela arrive après quelques minutes, ou après la déconnexion.", "You are no longer signed in to this site. This happens after a few minutes, or after signing out."},
	"err_expired_2":   {"Connectez-vous à nouveau pour continuer.", "Sign in again to continue."},
	"err_stopped":     {"Ces droits ont été arrêtés", "These rights were stopped"},
	"err_stopped_1":   {"Relais nous dit que vous ne pouvez plus agir pour ce compte. Par exemple, la procuration a été arrêtée.", "Relais tells us you can no longer act for this account. For example, the proxy was stopped."},
	"err_stopped_2":   {"Ce site ne montre plus ces droits. Connectez-vous à nouveau pour voir ce que vous pouvez faire maintenant.", "This site no longer shows these rights. Sign in again to see what you can do now."},
	"err_eval":        {"Nous n’avons pas pu vérifier cette démarche", "We could not check this procedure"},
	"err_eval_1":      {"Ce site n’a pas pu demander à Relais si cette démarche est permise.", "This site could not ask Relais whether this procedure is allowed."},
	"err_eval_2":      {"Rien n’a été fait. Réessayez dans un moment.", "Nothing was done. Try again in a moment."},
	"err_relais":      {"Relais ne répond pas", "Relais is not answering"},
	"err_relais_1":    {"Ce site n’a pas pu joindre Relais. Rien n’a été fait.", "This site could not reach Relais. Nothing was done."},
	"err_relais_2":    {"Réessayez dans un moment. Pour la démonstration, lancez : go run ./cmd/relais serve --demo", "Try again in a moment. For the demonstration, run: go run ./cmd/relais serve --demo"},
	"err_notfound":    {"Page introuvable", "Page not found"},
	"err_notfound_1":  {"Cette adresse ne mène à aucune page de ce site.", "This address leads to no page of this site."},
	"err_notfound_2":  {"Retournez à l’accueil pour continuer.", "Go back to the home page to continue."},
	"err_badrequest":  {"Cette demande n’est pas comprise", "This request is not understood"},
	"err_badrequest1": {"Le formulaire envoyé n’est pas celui de ce site, ou il est incomplet.", "The form sent is not this site’s, or it is incomplete."},
	"err_badrequest2": {"Rien n’a été fait. Retournez au compte et recommencez.", "Nothing was done. Go back to the account and start again."},
}

// tr is the words in one language, for templates: {{.T.logout}}.
func tr(lang string) map[string]string {
	out := make(map[string]string, len(words))
	for k, v := range words {
		out[k] = v.in(lang)
	}
	return out
}

// trf fills a phrase's %s.
func trf(lang, key string, args ...any) string {
	return fmt.Sprintf(words[key].in(lang), args...)
}

// act is one of the site's three procedures, with the action class and
// procedure area Relais evaluates it in.
type act struct {
	Slug   string // its path: /actes/{slug}
	Action string // consult, manage or dispose
	Area   string // a procedure area the site is registered for
	Label  text
	Hint   text
	// Done is the act once done, as the site reports it to Relais for
	// the person's journal: short, in French.
	Done string
	// Description is what the party who must agree reads in Relais, for
	// a co-signature; %s is the person's name.
	Description string
}

var acts = []act{
	{Slug: "consulter", Action: "consult", Area: "social",
		Label:       text{"Consulter le dossier", "See the file"},
		Hint:        text{"Voir les allocations et les paiements.", "See the allowances and payments."},
		Done:        "Dossier consulté",
		Description: "Caisse de démonstration : voir le dossier de %s."},
	{Slug: "declarer", Action: "manage", Area: "social",
		Label:       text{"Déclarer un changement de situation", "Report a change of situation"},
		Hint:        text{"Par exemple : un déménagement, un nouveau travail.", "For example: a move, a new job."},
		Done:        "Déclaration de changement de situation envoyée",
		Description: "Caisse de démonstration : déclarer un changement de situation de %s."},
	{Slug: "rembourser", Action: "dispose", Area: "argent",
		Label: text{"Demander le remboursement d’un trop-perçu", "Ask for an overpayment to be paid back"},
		Hint: text{"Un trop-perçu est de l’argent versé en trop. Cette démarche engage l’argent de la personne.",
			"An overpayment is money paid by mistake. This procedure commits the person’s money."},
		Done:        "Demande de remboursement d’un trop-perçu de 120 € envoyée",
		Description: "Caisse de démonstration : demander le remboursement d’un trop-perçu de 120 € pour %s. L’argent sera versé sur son compte bancaire."},
}

func actBySlug(slug string) (act, bool) {
	for _, a := range acts {
		if a.Slug == slug {
			return a, true
		}
	}
	return act{}, false
}

// The same words as Relais's pages for action classes, kinds and areas,
// so a person reads the same names on both sites. A real site keeps its
// own copy: the claims carry codes (and role_label for the role).
var actionWords = map[string]text{
	"consult":  {"Voir le dossier", "See the file"},
	"manage":   {"Faire les démarches courantes", "Do everyday procedures"},
	"dispose":  {"Faire les actes importants (vendre, signer un engagement)", "Do important acts (sell, sign a commitment)"},
	"personal": {"Actes personnels (voter, se marier)", "Personal acts (voting, marrying)"},
}

var kindWords = map[string]text{
	"tutelle":                               {"Tutelle", "Guardianship (tutelle)"},
	"curatelle_simple":                      {"Curatelle simple", "Simple curatorship (curatelle simple)"},
	"curatelle_renforcee":                   {"Curatelle renforcée", "Reinforced curatorship (curatelle renforcée)"},
	"sauvegarde_justice":                    {"Sauvegarde de justice", "Temporary court protection (sauvegarde de justice)"},
	"habilitation_familiale_assistance":     {"Habilitation familiale d’assistance", "Family authorisation to assist"},
	"habilitation_familiale_representation": {"Habilitation familiale de représentation", "Family authorisation to represent"},
	"mandat_protection_future":              {"Mandat de protection future", "Future protection mandate"},
	"aidant_mandate":                        {"Mandat d’aidant", "Aidant mandate"},
	"proxy":                                 {"Procuration", "Proxy"},
}

var areaWords = map[string]text{
	"papiers":    {"Papiers, citoyenneté, élections", "Papers, citizenship, elections"},
	"famille":    {"Famille, scolarité", "Family, school"},
	"social":     {"Social, santé", "Benefits, health"},
	"travail":    {"Travail, formation", "Work, training"},
	"logement":   {"Logement", "Housing"},
	"transports": {"Transports, mobilité", "Transport, getting around"},
	"argent":     {"Argent, impôts, consommation", "Money, taxes, shopping"},
	"justice":    {"Justice", "Justice"},
	"etranger":   {"Étranger, Europe", "Foreign nationals, Europe"},
	"loisirs":    {"Loisirs, sport, culture", "Leisure, sport, culture"},
}

// wordOr is the phrase for a code, or the code itself when this site does
// not know it (a newer Relais may send new codes).
func wordOr(m map[string]text, code, lang string) string {
	if t, ok := m[code]; ok {
		return t.in(lang)
	}
	return code
}

// displayName is how people are addressed: Relais's name claim when it
// sends one (the name its own pages give), else the same built from
// FranceConnect's claims: the first given name (given_name holds all of
// them, space-separated) and the name in use (preferred_username, the nom
// d'usage) or else the birth name.
func displayName(name, given, family, preferred string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	first, _, _ := strings.Cut(strings.TrimSpace(given), " ")
	last := preferred
	if last == "" {
		last = family
	}
	return strings.TrimSpace(first + " " + last)
}

// lowerFirst puts a label inside a sentence: "Tuteur ou tutrice" becomes
// "tuteur ou tutrice".
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

var monthsFR = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// paris is France's time zone, or UTC where the system has no zone data.
var paris = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Paris"); err == nil {
		return l
	}
	return time.UTC
}()

// formatDate writes a date in full: "1er mars 2031", "1 March 2031".
func formatDate(t time.Time, lang string) string {
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

// formatTime writes an hour as people say it: "14 h 05", "2:05 pm".
func formatTime(t time.Time, lang string) string {
	t = t.In(paris)
	if lang == "en" {
		return t.Format("3:04 pm")
	}
	// No-break spaces: "14 h 05" never splits across lines.
	return fmt.Sprintf("%d\u00a0h\u00a0%02d", t.Hour(), t.Minute())
}
