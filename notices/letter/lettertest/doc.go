// Package lettertest runs the poppler-utils tools (pdftotext, pdfinfo,
// pdftoppm) that the letters' tests read their PDFs with, for every
// package that checks a letter (notices/letter, notices/words).
//
// It owns one decision: without the tools, a developer's machine skips
// those tests, while CI (the CI variable set; .ci/run installs
// poppler-utils) fails, so a skip never passes for a check there, as
// ui/browsertest and pgtest decide for chromium and PostgreSQL. It
// imports only the standard library; test code alone imports it.
package lettertest
