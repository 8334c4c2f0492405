// Package authz owns the OAuth 2.0 / OpenID Connect side of Relais: relying
// parties (clients), browser sessions, passwords and login limits, signing
// keys and their encryption at rest, and the provider built on fosite
// (provider.go wires its handlers; fosite_storage.go is the one place that
// adapts fosite's storage to Relais's stores; signer.go is fosite's JWT
// signer on go-jose v4). It may import mandates; it never imports ui or a
// store. It declares the store interfaces it needs; storage/* implements
// them, and storage/storagetest checks every store the same way.
package authz
