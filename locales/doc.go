// Package locales owns the words of the domain in Relais's two languages:
// the names of kinds, roles, actions, decisions, statuses, procedure
// areas, organisation kinds and mandate lengths, the policy's reasons, and
// the text of the aidant-mandate attestation with the dates it shows.
//
// It exists so that mandates keeps codes, not sentences: the domain answers
// with typed values (a Kind, a mandates.Reason with its code and the kind
// and role it names), and the pages (ui), the AuthZEN API (authz) and the
// commands (cmd) word them from the same catalogues, so they never
// disagree. The words are go-i18n catalogues in this directory
// (labels.fr.json, reasons.en.json, …), in the style of ui/locales.
//
// It exposes a small API (Kind, Role, Area, Reason, …) that returns a Text
// holding both languages, rather than adding its files to ui's bundle:
// authz must answer with both languages at once (AuthZEN's reason is
// {fr, en}), ui keeps option lists whose words the template picks per page,
// and neither authz nor cmd has ui's bundle. The catalogues are embedded
// and parsed once, on first use, into a value that never changes after;
// a broken catalogue is a build defect that the package's tests catch.
//
// The attestation stays a Go text per language (attestation.go): its exact
// bytes are hashed with each consent and versioned by AttestationVersion,
// so its wording changes only with a new version.
//
// It imports mandates (for the code types) and go-i18n; it must not import
// ui, authz, cmd or a store. mandates must not import it.
package locales
