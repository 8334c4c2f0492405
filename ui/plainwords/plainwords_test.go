package plainwords_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/relais-fr/relais/ui/plainwords"
)

func read(t *testing.T, page string) plainwords.Page {
	t.Helper()
	p, err := plainwords.Read(strings.NewReader(page), "paper")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func texts(p plainwords.Page) []string {
	var out []string
	for _, s := range p.Sentences {
		out = append(out, s.Text)
	}
	return out
}

func TestReadGivesTheSentencesAScreenReaderMeets(t *testing.T) {
	tests := []struct {
		name string
		html string
		want []string
	}{
		{"the title, headings and list items are sentences of their own",
			`<title>Mon espace</title><h1>Bonjour Jeanne</h1><ul><li>Votre tutrice</li><li>Vos demandes</li></ul>`,
			[]string{"Mon espace", "Bonjour Jeanne", "Votre tutrice", "Vos demandes"}},
		{"script, style, hidden and aria-hidden are not read",
			`<p>Lu.</p><script>var x = "pas lu";</script><style>p{}</style><p hidden>Pas lu.</p><span aria-hidden="true">Pas lu.</span><template><p>Pas lu.</p></template>`,
			[]string{"Lu."}},
		{"an image gives its alt, a submit input its value, a button its aria-label",
			`<p>Voici <img src="x.png" alt="le logo de Relais"> en haut.</p><input type="submit" value="Envoyer"><input type="hidden" value="secret"><button aria-label="Fermer la fenêtre">×</button>`,
			[]string{"Voici le logo de Relais en haut.", "Envoyer", "Fermer la fenêtre"}},
		{"French punctuation ends sentences, closing quotes stay with theirs",
			`<p>Vous pouvez arrêter l’accès. Voulez-vous continuer ? Oui ! Marie a dit « c’est fait. » Puis elle est partie…</p>`,
			[]string{"Vous pouvez arrêter l’accès.", "Voulez-vous continuer ?", "Oui !", "Marie a dit « c’est fait. »", "Puis elle est partie…"}},
		{"abbreviations, times, references and decimals do not split",
			`<p>M. Martin a envoyé la déclaration à 14 h 05, référence 2026-1187. Le fichier export.json pèse 1.5 Mo, etc. et voilà. Mme. Durand signe.</p>`,
			[]string{"M. Martin a envoyé la déclaration à 14 h 05, référence 2026-1187.", "Le fichier export.json pèse 1.5 Mo, etc. et voilà.", "Mme. Durand signe."}},
		{"a line break ends a sentence", `<p>12 rue des Lilas<br>44000 Nantes</p>`, []string{"12 rue des Lilas", "44000 Nantes"}},
		{"a line break inside pre or a class that keeps lines ends a sentence",
			"<pre>Moi, Jeanne\nSigné le 3 mars</pre><div class=\"paper x\">Numéro : 12\nSignature :</div><p>Une\nphrase.</p>",
			[]string{"Moi, Jeanne", "Signé le 3 mars", "Numéro : 12", "Signature :", "Une phrase."}},
		{"a link inside a sentence does not split it", `<p>Lisez <a href="/journal">votre journal</a> chaque mois.</p>`,
			[]string{"Lisez votre journal chaque mois."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := texts(read(t, tt.html)); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCountWordsJoinsHyphensAndApostrophes(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"c’est-à-dire", 1},
		{"l'accès de Marie", 3},
		{"à 14 h 05", 4},
		{"référence 2026-1187", 2},
		{"« oui » – non", 2},
		{"Marie\u00a0Martin", 2},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := plainwords.CountWords(tt.text); got != tt.want {
				t.Errorf("%d words, want %d", got, tt.want)
			}
		})
	}
}

func french(t *testing.T) plainwords.Rules {
	t.Helper()
	r, err := plainwords.For("fr")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTheFrenchListReadsAndHoldsTheWordsOfTheRuleBook(t *testing.T) {
	r := french(t)
	var names []string
	for _, term := range r.Terms {
		if term.Plain == "" {
			t.Errorf("« %s » says nothing of how to say it plainly", term.Forms[0])
		}
		names = append(names, term.Forms...)
	}
	for _, w := range []string{"authentification", "double authentification", "habilitation", "habiliter", "représentation", "révoquer",
		"révocation", "mandataire", "json", "rg", "oauth", "openid", "token", "jeton", "connecté(e)", "identifiant client", "mjpm", "siret",
		"horodatage", "signature numérique", "checkpoint", "tutelle", "curatelle", "habilitation familiale", "sauvegarde de justice"} {
		if !slices.Contains(names, w) {
			t.Errorf("« %s » is not in words.fr.txt", w)
		}
	}
	if slices.Contains(names, "la personne") {
		t.Error("« la personne » is in the list: the naming rules own it")
	}
	if r.MaxWords != 20 || r.MaxAverage != 15 {
		t.Errorf("limits %d and %v, want 20 and 15 (PLAIN-LANGUAGE.md)", r.MaxWords, r.MaxAverage)
	}
	if _, err := plainwords.ParseTerms("JSON sans explication\n"); err == nil {
		t.Error("a line without « = » was read")
	}
}

func TestCheckFindsEachBreach(t *testing.T) {
	long := "<p>Un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize dix-sept dix-huit dix-neuf vingt vingt-et-un.</p>"
	tests := []struct {
		name string
		html string
		want []plainwords.Rule
	}{
		{"short plain sentences pass", "<h1>Votre journal</h1><p>Marie Martin a envoyé votre déclaration.</p>", nil},
		{"a sentence of 21 words is too long", long + "<p>Court.</p><p>Court.</p><p>Court.</p>", []plainwords.Rule{plainwords.TooLong}},
		{"a sentence of 20 words passes", strings.Replace(long, " vingt-et-un", "", 1) + "<p>Court.</p><p>Court.</p>", nil},
		{"an average of 15 words is too long", "<p>Un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze.</p>",
			[]plainwords.Rule{plainwords.LongAverage}},
		{"a listed word unexplained", "<p>Relais garde un horodatage de chaque acte.</p>", []plainwords.Rule{plainwords.Unexplained}},
		{"a listed word in capitals unexplained", "<p>Téléchargez le fichier JSON.</p>", []plainwords.Rule{plainwords.Unexplained}},
		{"a listed word explained in brackets the first time, then used",
			"<p>Téléchargez le fichier JSON (un fichier que vous pouvez garder).</p><p>Le JSON est signé.</p>", nil},
		{"a listed word explained by « : c’est » the first time",
			"<p>Le numéro RG : c’est le numéro de la décision du juge.</p>", nil},
		{"a listed word in a dfn", "<p>Votre <dfn>tutelle</dfn> veut dire que Marie fait les démarches pour vous.</p><p>La tutelle dure 5 ans.</p>", nil},
		{"a listed word explained only the second time", "<p>Vous êtes sous tutelle.</p><p>La tutelle (Marie agit pour vous) dure 5 ans.</p>",
			[]plainwords.Rule{plainwords.Unexplained}},
		{"a listed word in a link, explained in the same list item",
			"<ul><li><a href=\"/x\">Télécharger (fichier JSON)</a><p>JSON est le nom de ce type de fichier.</p></li></ul>", nil},
		{"a listed word in a link, explained only in another list item",
			"<ul><li><a href=\"/x\">Télécharger (fichier JSON)</a></li><li>JSON est le nom de ce type de fichier.</li></ul>",
			[]plainwords.Rule{plainwords.Unexplained}},
		{"« , c’est » after a listed word explains nothing", "<p>Avec la tutelle, c’est Marie Martin qui donne ce mandat.</p>",
			[]plainwords.Rule{plainwords.Unexplained}},
		{"a listed word in a label, explained in the same note",
			`<div role="note"><p>Tutelle. Votre rôle : tuteur.</p><p>Tutelle veut dire : un juge a choisi Marie.</p></div>`, nil},
		{"a listed word explained in the same refusal",
			`<div data-refusal><p>Avec cette mesure : Tutelle.</p><p>Tutelle veut dire : un juge a choisi Marie.</p><a href="/">Revenir</a></div>`, nil},
		{"a listed word explained only in a plain div after it",
			`<div><p>Avec cette mesure : Tutelle.</p><p>Tutelle veut dire : un juge a choisi Marie.</p></div>`, []plainwords.Rule{plainwords.Unexplained}},
		{"a shorter word inside an explained longer one", "<p>Vous êtes sous curatelle renforcée (votre curateur gère votre argent).</p>", nil},
		{"part of a longer word is not the word", "<p>Marie est votre tutrice. Elle exerce des tutelles.</p>", nil},
		{"a refusal with a link passes", `<div data-refusal><p>Refusé.</p><a href="/espace">Demandez à votre tutrice</a></div>`, nil},
		{"a refusal with a next-step sentence passes", `<li data-refusal>Refusé. <span class="next-step">Appelez votre tutrice.</span></li>`, nil},
		{"a refusal alone fails", `<li data-refusal>Réponse de Relais : refusé.</li>`, []plainwords.Rule{plainwords.NoNextStep}},
		{"a refusal with an empty next-step fails", `<li data-refusal>Refusé. <span class="next-step"> </span><a>sans lien</a></li>`,
			[]plainwords.Rule{plainwords.NoNextStep}},
		{"every breach is listed at once",
			long + `<p>Le JSON.</p><p data-refusal>Non.</p>`, []plainwords.Rule{plainwords.TooLong, plainwords.Unexplained, plainwords.NoNextStep}},
	}
	r := french(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []plainwords.Rule
			var said []string
			for _, b := range r.Check(read(t, tt.html)) {
				got = append(got, b.Rule)
				said = append(said, b.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("breaches %q, want %q\n%s", got, tt.want, strings.Join(said, "\n"))
			}
		})
	}
}
