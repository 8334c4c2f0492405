// Package oauth holds the records the OpenID provider keeps and the stores
// persist, as plain Go types: relying parties and the rules of their
// registration (client.go; its encryption settings and the choice of the
// key to encrypt to, encryption.go), the stored parts of grants (tokens.go), the
// pairwise subjects issued (subjects.go) and the DPoP proofs used
// (proofs.go), with the store interfaces for each.
//
// It exists so that storage/* can implement the provider's stores without
// importing authz, which links fosite and, through it, OpenTelemetry and
// gRPC. authz adapts these records to fosite's storage interfaces in one
// place (authz/fosite_storage.go). It imports mandates and go-jose v4 (to
// check a client's key set); it must not import fosite, authz, ui or a
// store.
package oauth
