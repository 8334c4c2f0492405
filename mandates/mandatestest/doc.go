// Package mandatestest holds what tests of the domain's users need and
// production must never have: a sink that drops the journal's events.
//
// It exists because mandates.NewService, the provider and the
// authenticator require an event sink (journaling is not optional), and
// tests that do not read the journal still need one. No code outside a
// test may import it; `grep -rn mandatestest --include=*.go . | grep -v
// _test.go` lists only this package. It imports mandates and the standard
// library only.
package mandatestest
