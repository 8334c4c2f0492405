// Package sqlite is Relais's embedded default store: one file, pure Go
// (modernc.org/sqlite, no cgo), for trying Relais and for small deployments.
// It implements the store interfaces declared by mandates, mandates/journal,
// authn, authz/oauth and keyring (never authz itself, which links fosite),
// and is checked by the behaviour suite in storage/storagetest.
//
// SQLite allows one writer at a time. The store keeps one connection for
// writes, opened with BEGIN IMMEDIATE, so writers in this process queue in
// Go instead of failing with "database is locked", and a separate pool of
// read-only connections that WAL mode lets read while a write runs. Another
// process holding the write lock longer than the busy timeout surfaces as
// mandates.ErrUnavailable, never as a raw SQLite error.
package sqlite
