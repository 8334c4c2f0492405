// Package ui owns Relais's HTTP face: the server-rendered accessible pages
// (html/template, assets embedded), their French and English catalogues,
// the one error page every person meets, and the middleware every request
// goes through (request id, logs, metrics, limits, panic recovery), plus
// /healthz, /readyz and /metrics. It may import mandates, mandates/journal,
// authn, authz, authz/oauth and locales; it never imports a store:
// cmd/relais hands it what it needs.
//
// Handlers return errors: page handlers go through Server.page, which
// maps an error to its page in one place (StoreError), and the JSON API's
// through Server.api (domainJSONError). Server holds what every page
// shares (rendering, sessions, errors); the pages are grouped by audience
// in types that embed it, each with at most forty methods
// (methods_test.go): signInPages, totpPages, personPages, aidantPages,
// journalPages, cosignPages, operatorPages, orgPages and apiPages.
package ui
