// Package jsoncol writes the lists that both stores keep as JSON (SQLite's
// list columns, PostgreSQL's jsonb adjustments) the same way, so that a
// row written by one store reads back alike in the other's tests.
//
// It exists because storage/sqlite and storage/postgres must not import
// each other, and this is no rule of the domain, so it does not belong in
// mandates. It imports the standard library only, and neither store.
package jsoncol
