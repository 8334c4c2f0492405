// Package accounts owns the acts on a person's account that several
// packages must do together, in one transaction: opening an account at a
// desk (mandates decides who may, authn keeps the login name and issues
// the activation code, notices writes the letter that carries it) and
// activating it with that code (authn redeems the code and hashes the
// password, mandates decides whether a tutor may do it for the person).
//
// It exists so that an account never exists without its letter, and a
// code is never used without the password it sets: the pages, the API and
// the commands call it rather than putting the steps together each in
// their own way.
//
// It imports mandates, authn and notices; it must not import ui, authz,
// the stores, notices/words or the channels: cmd/relais wires it.
package accounts
