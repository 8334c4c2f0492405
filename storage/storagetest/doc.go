// Package storagetest is the one behaviour suite every Relais store must
// pass. Each store's test calls Run with a constructor that returns a fresh,
// empty, migrated store, so both stores answer every question the same way.
package storagetest
