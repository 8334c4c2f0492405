// Package authz owns the OAuth 2.0 / OpenID Connect side of Relais: relying
// parties (clients), browser sessions, password hashing, and later the
// provider built on fosite. It may import mandates; it never imports ui or a
// store. It declares the store interfaces it needs; storage/* implements them.
package authz
