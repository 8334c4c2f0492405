-- +goose Up
-- An organisation's journal (/structure/{id}/journal) reads the entries
-- of its aidants newest first: journal_page.go filters on organisation_id
-- and orders by at, chain, seq, all descending. This index serves the
-- filter and the order, so a page reads its rows in order instead of
-- walking every chain's entries by time (journal_entries_at).
--
-- Most entries have no organisation (a person's own acts, a tutor's): the
-- index holds only the others, so that those writes (every login, every
-- token) pay nothing for it. The page's query repeats the WHERE term.
CREATE INDEX journal_entries_organisation ON journal_entries (organisation_id, at, chain, seq) WHERE organisation_id <> '';

-- +goose Down
DROP INDEX journal_entries_organisation;
