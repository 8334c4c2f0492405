// Package mandates owns Relais's domain: persons, and later who may act for
// whom, for which procedures, until when. It imports the standard library
// only: no SQL, no HTTP, no OAuth library. It declares the store interfaces
// it needs; storage/* implements them. It keeps codes, not sentences: the
// words of its kinds, roles, areas and the policy's reasons (Reason) are in
// the package locales, which imports mandates, never the other way.
package mandates
