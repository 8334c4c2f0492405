// Package plainwords checks that a page a person under protection may see
// is written in plain words, as /work/shared/PLAIN-LANGUAGE.md (the
// project's rule book, "Checking") asks: short sentences, the words of a
// list explained on the spot or avoided, and a next step after every
// refusal.
//
// It owns three things:
//
//   - Read: the visible text of an HTML page as a screen reader meets it,
//     cut into sentences. Script, style, template, noscript and elements
//     marked hidden or aria-hidden="true" are skipped; an image gives its
//     alt, a submit input its value, a link or button its aria-label when
//     it has one (instead of its content). Every block element (heading,
//     paragraph, list item, cell, label, legend, button, option…) and
//     every <br> ends a sentence; inside a block, a sentence ends at « . »,
//     « ! », « ? » or « … » followed by a space and by something that is not
//     a lower-case letter, closing quotes and brackets staying with the
//     sentence. So « M. Martin », « 14 h 05 », « 2026-1187 », « 1.5 » and
//     « etc. et » do not split; the abbreviations in abbreviations (M.,
//     Mme., Dr., n°…) never end a sentence. Inside <pre> and inside the
//     elements of the classes Read is given (those whose style keeps line
//     breaks), every line break ends a sentence.
//   - Words: a word is a run of characters between spaces (any Unicode
//     space, the no-break space included) holding at least one letter or
//     digit. Hyphens and apostrophes join: « c'est-à-dire », « l'accès »
//     and « 2026-1187 » are one word each; « 14 h 05 » is three; « » » and
//     « – » are none.
//   - Check: the limits (MaxWords, MaxAverage), the listed words
//     (words.fr.txt and words.en.txt, each with how to say it plainly)
//     and the refusal rule.
//
// A listed word is allowed on a page only when its first occurrence there
// is explained on the spot, which the check reads from the structure:
// the word is inside a <dfn> element (the sentence holding the <dfn> is
// its explanation), or it is followed at once by a bracket « ( », by « :
// c'est », « , c'est-à-dire », « veut dire », « est le nom de » or
// « désigne » (in English « means », « is the name of », « : it is »,
// « , that is »), but not by « , c'est » (« la tutelle, c'est Marie qui
// donne » explains nothing); or, where the first occurrence is a link or a
// label, the word is explained so in another sentence of the same part
// (list item, description, cell, section, fieldset, details, a refusal,
// or an element of role note, alert, status, group or region). Later
// occurrences on the same page are then allowed.
//
// A refusal is an element the templates mark with the attribute
// data-refusal (the refusal page, the error page, a form's error summary,
// a refused line of the journal or of the space, a refused agreement). It
// must hold its next step inside itself: a link with an href, a button, a
// submit input, or an element of class next-step with words in it.
//
// It imports only the standard library and golang.org/x/net/html, and
// nothing of Relais: it reads HTML, so the ui package's tests can use it
// on any page without this package knowing the pages.
package plainwords
