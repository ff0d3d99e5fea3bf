-- A row the broker will not take (too large, refused again and again) is
-- parked instead of published: the relay sets parked_at and says why, skips
-- it from then on, and the rows after it keep flowing. An operator who fixed
-- the cause sets parked_at back to NULL to have it published.
ALTER TABLE outbox ADD COLUMN parked_at timestamptz, ADD COLUMN parked_reason text;
-- The relay's query reads only what is still pending and not parked.
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL AND parked_at IS NULL;
