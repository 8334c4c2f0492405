package words_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
	"github.com/relais-fr/relais/notices/letter/lettertest"
	"github.com/relais-fr/relais/notices/words"
)

// run runs a poppler-utils tool (lettertest: skipped without it, a
// failure in CI).
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return lettertest.Run(t, name, args...)
}

func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// letterCase is one letter: the notice, and words the letter must hold
// beyond its subject, lines and reference (what happened, names, the
// court for a measure).
type letterCase struct {
	name string // the file's name in test-output/letters
	n    notices.Notice
	want []string
}

// letterCases are one letter per notified event, and a few in English.
// The lead's note lists them: event → TestLetters/<name>.
func letterCases() []letterCase {
	tutelle := map[string]string{"representation_id": id("tutelle"), "actor_id": id("aidant"), "status": "active"}
	mandate := map[string]string{"representation_id": id("mandate"), "actor_id": id("aidant"), "organisation_id": id("fs"), "status": "pending_consent"}
	proxy := map[string]string{"representation_id": id("proxy"), "actor_id": id("jeanne"), "status": "active"}
	mpf := map[string]string{"representation_id": id("mpf"), "actor_id": id("aidant"), "status": "active"}
	person, rep, measure, agreement := notices.RolePerson, notices.RoleRepresentative, notices.RoleMeasure, notices.RoleAgreement
	paper := notices.Paper
	cosignPerson := map[string]string{"representation_id": id("tutelle"), "cosignature_id": id("cosign-person")}
	cosignCurator := map[string]string{"representation_id": id("curatelle"), "cosignature_id": id("cosign-curator")}
	court := []string{"Tribunal judiciaire de Nantes", "15 jours", "Vous voyez une erreur dans ce que Relais a noté ? Contactez-nous : 02 40 41 42 43."}
	return []letterCase{
		{"created-measure-to-person", notice(mandates.EventCreated, "jeanne", "jeanne", person, paper, tutelle),
			append([]string{"Le juge a pris une mesure de protection pour vous.", "la tutelle (", "Marie Martin", "20 février 2027 (numéro 27/00123)", "20 février 2032"}, court...)},
		{"created-measure-to-representative", notice(mandates.EventCreated, "jeanne", "marie", rep, paper, tutelle),
			append([]string{"mesure de protection pour Jeanne Lefèvre.", "vous aidez Jeanne Lefèvre"}, court...)},
		{"created-mandate-asked-to-person", notice(mandates.EventCreated, "jeanne", "jeanne", person, paper, mandate),
			[]string{"France Services Nantes demande un mandat pour agir pour vous.", "Marie Martin doit d’abord dire oui pour vous.", "papiers, citoyenneté, élections ; logement", "12 mois", "arrêter l’accès de France Services Nantes à tout moment"}},
		{"created-mandate-asked-to-measure-representative", notice(mandates.EventCreated, "jeanne", "marie", measure, paper, mandate),
			[]string{"France Services Nantes demande un mandat pour Jeanne Lefèvre.", "vous pouvez dire oui ou non", "Répondez dans « Mon espace »"}},
		{"consent-given-to-person", notice(mandates.EventConsentGiven, "jeanne", "jeanne", person, paper, with(with(mandate, "actor_id", id("jeanne")), "status", "active")),
			[]string{"Vous avez donné votre accord : un mandat pour France Services Nantes.", "France Services Nantes peut maintenant agir pour vous."}},
		{"accepted-to-person", notice(mandates.EventAccepted, "jeanne", "jeanne", person, paper, with(proxy, "actor_id", id("karim"))),
			[]string{"Karim Benali a dit oui à la procuration.", "Karim Benali peut maintenant agir pour vous.", "argent, impôts, consommation"}},
		{"agreed-to-person", notice(mandates.EventAgreed, "jeanne", "jeanne", person, paper, with(with(mandate, "actor_id", id("marie")), "status", "active")),
			[]string{"Marie Martin a dit oui au mandat pour France Services Nantes."}},
		{"declined-to-person", notice(mandates.EventDeclined, "jeanne", "jeanne", person, paper, with(with(proxy, "actor_id", id("karim")), "status", "revoked")),
			[]string{"Karim Benali a dit non à la procuration.", "Karim Benali ne peut donc pas agir pour vous."}},
		{"activated-measure-to-person", notice(mandates.EventActivated, "jeanne", "jeanne", person, paper, tutelle),
			append([]string{"Votre mesure de protection commence.", "Marie Martin peut maintenant agir pour vous."}, court...)},
		{"suspended-measure-to-person", notice(mandates.EventSuspended, "jeanne", "jeanne", person, paper, tutelle),
			append([]string{"Votre mesure de protection est en pause.", "Marie Martin ne peut plus agir pour vous"}, court...)},
		{"resumed-measure-to-representative", notice(mandates.EventResumed, "jeanne", "marie", rep, paper, tutelle),
			append([]string{"La mesure de protection de Jeanne Lefèvre reprend."}, court...)},
		{"updated-measure-to-person", notice(mandates.EventUpdated, "jeanne", "jeanne", person, paper, tutelle),
			append([]string{"Votre mesure de protection a changé.", "d’après la décision du juge"}, court...)},
		{"area-withdrawn-to-person", notice(mandates.EventAreaWithdrawn, "jeanne", "jeanne", person, paper, with(with(mandate, "status", "active"), "area", "logement")),
			[]string{"France Services Nantes ne s’occupe plus d’une partie de vos démarches.", "Cela concerne : logement."}},
		{"revoked-measure-to-person", notice(mandates.EventRevoked, "jeanne", "jeanne", person, paper, with(tutelle, "status", "revoked")),
			append([]string{"Votre mesure de protection est finie.", "Marie Martin ne peut plus agir pour vous."}, court...)},
		{"withdrawn-to-representative", notice(mandates.EventWithdrawn, "jeanne", "karim", rep, paper, with(proxy, "status", "revoked")),
			[]string{"Jeanne Lefèvre a arrêté votre accès.", "Vous ne pouvez plus agir pour Jeanne Lefèvre"}},
		{"expired-to-person", notice(mandates.EventExpired, "jeanne", "jeanne", person, paper, with(proxy, "status", "expired")),
			[]string{"L’accès de Karim Benali est fini.", "3 septembre 2027"}},
		{"ending-soon-measure-to-person", notice(endingSoon, "jeanne", "jeanne", person, paper, with(tutelle, "ends_on", "2027-04-01")),
			[]string{"Votre mesure de protection se termine le 1er avril 2027.", "le juge doit renouveler la mesure", "Parlez-en à Marie Martin."}},
		{"cosign-requested-to-person", notice(mandates.EventCosignRequested, "jeanne", "jeanne", person, paper, with(cosignPerson, "actor_id", id("marie"))),
			[]string{"Marie Martin vous demande votre accord.", "« Vendre la voiture de Jeanne pour 2 500 € »", "Répondez avant le 10 mars 2027."}},
		{"cosign-requested-to-curator", notice(mandates.EventCosignRequested, "paul", "sophie", agreement, paper, with(cosignCurator, "actor_id", id("paul"))),
			[]string{"Paul Morel vous demande votre accord.", "« Signer un nouveau bail »", "10 mars 2027"}},
		{"cosign-approved-to-person", notice(mandates.EventCosignApproved, "jeanne", "jeanne", person, paper, with(cosignPerson, "actor_id", id("jeanne"))),
			[]string{"Vous avez dit oui à la demande de Marie Martin.", "Marie Martin peut faire cette démarche maintenant."}},
		{"cosign-refused-to-person", notice(mandates.EventCosignRefused, "paul", "paul", person, paper, with(cosignCurator, "actor_id", id("sophie"))),
			[]string{"Sophie Garnier a dit non à votre demande.", "Cette démarche ne peut donc pas se faire."}},
		{"site-first-act-to-person", notice(firstAct, "jeanne", "jeanne", person, paper, map[string]string{"representation_id": id("proxy"), "actor_id": id("karim"), "site_name": "impots.gouv.fr"}),
			[]string{"Karim Benali a agi pour vous sur un site pour la première fois.", "Le site : impots.gouv.fr.", "Arrêtez l’accès de Karim Benali"}},
		{"second-factor-enrolled", notice(mandates.EventSecondFactorEnrolled, "jeanne", "jeanne", person, paper, map[string]string{"actor_id": id("jeanne")}),
			[]string{"Un code de sécurité protège maintenant votre compte Relais.", "Ce n’est pas vous ? Contactez-nous vite : 02 40 41 42 43."}},
		{"second-factor-disabled", notice(mandates.EventSecondFactorDisabled, "jeanne", "jeanne", person, paper, map[string]string{"actor_id": id("jeanne")}),
			[]string{"Le code de sécurité de votre compte Relais est arrêté.", "votre mot de passe suffit maintenant"}},
		{"password-reset", notice(mandates.EventPasswordReset, "jeanne", "jeanne", person, paper, map[string]string{"actor_id": id("jeanne"), "by": "code"}),
			[]string{"Le mot de passe de votre compte Relais a changé.", "Les autres connexions à votre compte sont fermées.", "Ce n’est pas vous ? Contactez-nous vite : 02 40 41 42 43."}},
		{"second-factor-reset-by-an-operator", notice(mandates.EventSecondFactorReset, "jeanne", "jeanne", person, paper, map[string]string{"actor_id": id("marie")}),
			[]string{"Le code de sécurité de votre compte Relais est retiré.", "Marie Martin l’a retiré au guichet, après avoir vu une pièce d’identité.", "Vous n’avez rien demandé ?"}},
		{"channel-confirmed", notice(channelConfirmed, "jeanne", "jeanne", person, paper, map[string]string{"channel": "email"}),
			[]string{"Vous recevrez maintenant vos courriers par e-mail.", "Ce n’est pas vous ?", "revenir aux lettres sur papier"}},
		{"channel-confirmed-by-tutor", notice(channelConfirmed, "jeanne", "jeanne", person, paper, map[string]string{"channel": "sms", "actor_id": id("marie")}),
			[]string{"Vous recevrez maintenant vos courriers par SMS.", "Marie Martin a fait ce choix pour vous.", "Vos courriers iront à : 06 •• •• •• 78."}},
		{"site-first-act-under-tutelle", notice(firstAct, "jeanne", "jeanne", person, paper, map[string]string{"representation_id": id("tutelle"), "actor_id": id("marie"), "site_name": "caf.fr"}),
			[]string{"Marie Martin a agi pour vous sur un site pour la première fois.", "Vous n’êtes pas d’accord ? Contactez-nous : 02 40 41 42 43."}},
		{"en-created-future-protection-mandate", notice(mandates.EventCreated, "anne", "anne", person, paper, mpf),
			[]string{"Your future protection mandate starts.", "You chose Tom Dupont to help you.", "Write to: Tribunal judiciaire de Nantes.", "1 February 2027", "Reference: "}},
		{"en-suspended-to-representative", notice(mandates.EventSuspended, "anne", "tom", rep, paper, mpf),
			[]string{"The protection measure of Anne Dupont is paused.", "within 15 days", "Write to: Tribunal judiciaire de Nantes."}},
		{"en-second-factor-enrolled", notice(mandates.EventSecondFactorEnrolled, "anne", "anne", person, paper, map[string]string{"actor_id": id("anne")}),
			[]string{"A security code now protects your Relais account.", "Was it not you?"}},
	}
}

// TestLetters writes one letter per notified event (and three in English),
// renders it with notices/letter, reads it back with pdftotext and checks
// what happened, who, the court and how to contest for a measure, and the
// reference; each letter is kept as a PDF and a PNG of each page in
// <module root>/test-output/letters/words-<name> (RELAIS_TEST_OUTPUT
// replaces test-output), for a person to look at.
func TestLetters(t *testing.T) {
	out := os.Getenv("RELAIS_TEST_OUTPUT")
	if out == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		out = filepath.Join(root, "test-output")
	}
	dir := filepath.Join(out, "letters")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := letter.NewPrinter(letter.Letterhead{Name: "France Services Nantes", Address: []string{"4 rue de la Maison Neuve", "44000 Nantes"}, Phone: "02 40 41 42 43"})
	if err != nil {
		t.Fatal(err)
	}
	w := writer(t, fixture())
	seen := map[mandates.EventType]bool{}
	for _, c := range letterCases() {
		seen[c.n.Kind] = true
		t.Run(c.name, func(t *testing.T) {
			m, err := w.Write(t.Context(), c.n)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			plain(t, m)
			var buf bytes.Buffer
			if _, err := p.Render(&buf, m); err != nil {
				t.Fatalf("Render: %v", err)
			}
			file := filepath.Join(dir, "words-"+c.name+".pdf")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			text := squeeze(run(t, "pdftotext", "-raw", "-enc", "UTF-8", file, "-"))
			for _, want := range append(append([]string{m.Subject, words.Reference(c.n.ID), m.To.Name}, m.Lines...), c.want...) {
				if !strings.Contains(text, squeeze(want)) {
					t.Errorf("the letter lacks %q; pdftotext gives\n%s", want, text)
				}
			}
			for _, old := range must(filepath.Glob(filepath.Join(dir, "words-"+c.name+"-*.png"))) {
				_ = os.Remove(old)
			}
			run(t, "pdftoppm", "-png", "-r", "50", file, filepath.Join(dir, "words-"+c.name))
			if pngs := must(filepath.Glob(filepath.Join(dir, "words-"+c.name+"-*.png"))); len(pngs) == 0 {
				t.Errorf("no PNG for %s", c.name)
			}
		})
	}
	for _, e := range notified() {
		if !seen[e] {
			t.Errorf("no letter shows %s", e)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestALetterToAnOrganisationWaitsForItsAddress: an organisation
// recorded before organisations had a postal address has none, so its
// letter is written (the words do not refuse) and the paper channel
// refuses it with an address error, which operators see.
func TestALetterToAnOrganisationWaitsForItsAddress(t *testing.T) {
	w := writer(t, fixture())
	n := notice(mandates.EventWithdrawn, "jeanne", "fs", notices.RoleRepresentative, notices.Paper,
		map[string]string{"representation_id": id("mandate"), "actor_id": id("jeanne"), "status": "revoked"})
	m, err := w.Write(t.Context(), n)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if m.Subject != "Jeanne Lefèvre a arrêté votre accès." || m.To.Name != "France Services Nantes" {
		t.Errorf("got %q to %q", m.Subject, m.To.Name)
	}
	p, err := letter.NewPrinter(letter.Letterhead{Name: "Relais", Address: []string{"1 rue Kervégan", "44000 Nantes"}, Phone: "02 40 00 00 00"})
	if err != nil {
		t.Fatal(err)
	}
	f := &letter.Folder{Dir: t.TempDir(), Printer: p}
	var a *letter.AddressError
	if err := f.Send(t.Context(), m); !notices.IsPermanent(err) || !errors.As(err, &a) {
		t.Errorf("Send = %v, want a permanent address error", err)
	}
}
