-- Transactional outbox: an event row commits with the change it announces;
-- the relay publishes pending rows in id order and marks them once the broker
-- confirmed them.
CREATE TABLE outbox (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id     uuid NOT NULL DEFAULT gen_random_uuid(),
  type           text NOT NULL,
  payload        text NOT NULL,
  correlation_id text NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL DEFAULT now(),
  published_at   timestamptz
);
-- The relay's query reads only what is still pending.
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
