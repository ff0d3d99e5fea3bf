-- A client's Idempotency-Key, kept with the platform its first POST created:
-- a retry with the same key finds it instead of creating a second one.
-- Unique among the rows that have one; most rows have none.
ALTER TABLE platforms ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX platforms_idempotency_key ON platforms (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
