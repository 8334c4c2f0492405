-- +goose Up
-- When the site reported the act an agreement allowed (issue 17): an
-- agreement backs one act, so a second report with it is refused.
ALTER TABLE cosignatures ADD COLUMN act_reported_at INTEGER;

-- +goose Down
ALTER TABLE cosignatures DROP COLUMN act_reported_at;
