-- Published rows are deleted once older than OutboxRetention, oldest first
-- and a small batch at a time: this index finds them without reading the
-- rows still within the retention.
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
