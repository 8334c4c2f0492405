// Package ui owns Relais's HTTP face: the server-rendered accessible pages
// (html/template, assets embedded), their French and English catalogues,
// the one error page every person meets, and the middleware every request
// goes through (request id, logs, metrics, limits, panic recovery), plus
// /healthz, /readyz and /metrics. It may import authz and mandates; it never
// imports a store: cmd/relais hands it what it needs.
package ui
