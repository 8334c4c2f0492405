// Package mandates owns Relais's domain: persons, and later who may act for
// whom, for which procedures, until when. It imports the standard library
// only: no SQL, no HTTP, no OAuth library. It declares the store interfaces
// it needs; storage/* implements them.
package mandates
