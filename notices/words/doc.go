// Package words owns the words of the notices: it is the notices.Writer
// that turns a notice of the outbox (an event type, ids and codes, a
// recipient and a role) into a Message in plain words (shared/
// PLAIN-LANGUAGE.md), in French, or in English when the recipient's
// language is English: the subject (what happened), one idea per line
// (what it means for the person, what they can do and by when, how to
// contest a judge's decision before the court that made it), and the
// SMS's short text (who asks what, with no more personal detail than
// needed).
//
// The words are data, not code: one catalogue per language
// (catalogue.fr.json, catalogue.en.json, embedded), read by event type,
// recipient role and class of representation (a court measure or a
// mandate or proxy given by consent), with Go templates for the names,
// dates and court. Adding a notified event is adding its entries.
//
// It exists apart from notices so that the outbox and the dispatcher keep
// no sentence, and apart from the channels so that a letter, an email and
// an SMS of one notice say the same thing. It imports notices, mandates
// and locales (the domain's words: areas, actions, dates); it must not
// import ui, authz, authn, cmd or a store: the stores satisfy its Reader,
// and cmd wires it. Its tests, in the package words_test, render letters
// with notices/letter and check plain words with ui/plainwords; the
// package itself imports neither.
package words
