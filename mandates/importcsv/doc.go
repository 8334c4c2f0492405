// Package importcsv reads the CSV file of a bulk import of court measures
// (relais measures import, POST /api/v1/measures/import): the column set
// an MJPM service or a court registry exports (docs/accounts.md,
// « Importing measures »), separated by « ; » or « , », in UTF-8 with or
// without a byte order mark. It turns each line into a
// mandates.ImportLine, and each value it cannot read into a
// mandates.ImportProblem naming the line and the column, then hands the
// lines to mandates.Service.ImportMeasures, which owns the rules
// (matching by identité pivot, idempotence, all or nothing).
//
// It exists so that the page, the API and the command read one format
// the same way, apart from the domain's rules and from HTTP. It imports
// mandates and the standard library only: no store, no ui, no words (the
// sentences of its problems are in locales).
package importcsv
