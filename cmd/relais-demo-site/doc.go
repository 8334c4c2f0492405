// Command relais-demo-site is a fictional public-service site, the
// "Caisse de démonstration", that signs people in with Relais
// by standard OpenID Connect only (go-oidc and x/oauth2), as any site
// would: it imports none of Relais's packages, so a site developer can
// copy it.
//
// It shows whose account is open and who is acting ("Marie Martin, tuteur
// ou tutrice, pour Jeanne Lefèvre") from the act and representation
// claims, and offers three acts (consult, manage, dispose). Before each act
// it asks Relais's access evaluation endpoint (OpenID AuthZEN 1.0) whether
// the actor may do it now; where the answer is cosign, it opens a
// co-signature request and lets the person check it again. Once an act is
// done, it reports it to Relais's act endpoint with the actor's access
// token, so that the person reads it in their journal.
// The pages of a signed-in person link to their own space at Relais
// (issuer + /espace), where they see who may act for them and can stop a
// proxy.
//
// Run it beside `relais serve --demo`:
//
//	go run ./cmd/relais serve --demo
//	go run ./cmd/relais-demo-site
//
// then open http://localhost:8081/. docs/acting-for-someone.md explains
// each step for site developers.
package main
