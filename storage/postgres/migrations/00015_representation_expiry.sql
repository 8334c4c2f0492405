-- +goose Up
-- When a representation's expiry was recorded in its history and the
-- journal (mandates.Service.RecordExpiries); NULL until then, and again
-- when its end date changes. The status column keeps the stored status:
-- expired is decided by the clock at every reading.
ALTER TABLE representations ADD COLUMN expiry_recorded_at timestamptz;
-- The expiries still to record: representations in force as stored
-- (mandates.StatusActive, mandates.StatusSuspended; ExpiriesDue repeats
-- this condition word for word so that the planner uses the index), by end.
CREATE INDEX representations_expiry_due ON representations (valid_until, id)
    WHERE expiry_recorded_at IS NULL AND status IN ('active', 'suspended');

-- +goose Down
DROP INDEX representations_expiry_due;
ALTER TABLE representations DROP COLUMN expiry_recorded_at;
