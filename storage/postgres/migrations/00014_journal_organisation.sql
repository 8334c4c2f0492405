-- +goose NO TRANSACTION
-- +goose Up
-- An organisation's journal (/structure/{id}/journal) reads the entries
-- of its aidants newest first: journal_page.go filters on organisation_id
-- and orders by at, chain COLLATE "C", seq, all descending. This index
-- serves the filter and the order (its chain column in the same
-- collation), so a page reads its rows in order instead of walking every
-- chain's entries by time (journal_entries_at) and sorting them.
--
-- Every act writes its journal entry in its own transaction: a plain
-- CREATE INDEX would hold back every login and token while it builds on a
-- large journal, so it is built CONCURRENTLY, outside a transaction. A
-- build that failed leaves an invalid index behind; dropping it first
-- lets the migration run again.
DROP INDEX CONCURRENTLY IF EXISTS journal_entries_organisation;
--
-- Most entries have no organisation (a person's own acts, a tutor's): the
-- index holds only the others, so that those writes (every login, every
-- token) pay nothing for it. The page's query repeats the WHERE term.
CREATE INDEX CONCURRENTLY journal_entries_organisation ON journal_entries (organisation_id, at, chain COLLATE "C", seq)
    WHERE organisation_id <> '';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS journal_entries_organisation;
