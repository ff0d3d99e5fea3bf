-- The W3C trace context of the request that wrote the row: the relay sends
-- it on as the message's `traceparent` header, so the command service's log
-- lines about the event carry the request's trace_id. '' for rows written
-- before (and for a write without a request).
ALTER TABLE outbox ADD COLUMN traceparent text NOT NULL DEFAULT '';
