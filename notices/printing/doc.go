// Package printing owns the print run of the paper notices (issue 15,
// point 5): it gathers the letters not yet handed to the print-and-post
// service, writes each in words, lays them out into one PDF with a CSV
// manifest (reference, recipient, pages), and marks them handed over only
// once both files are complete on disk. A letter whose postal address
// cannot be printed is left out and reported, never dropped; Checker
// answers the same question for the operators' pages.
//
// It imports notices, notices/letter (the address rules) and mandates,
// and nothing of ui, authz, authn or the stores: cmd/relais wires the
// store, the Writer and the letter.Printer. It exists apart from
// notices/letter because a print run is about files and the outbox (temporary files,
// fsync, rename, then the mark), not about laying out one letter, and
// apart from cmd so that a run killed halfway can be tested without a
// process.
package printing
