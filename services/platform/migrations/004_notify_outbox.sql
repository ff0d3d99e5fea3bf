-- Every commit that adds outbox rows, whoever writes them, notifies channel
-- platform_outbox; PostgreSQL delivers it on commit (never for a rollback) to
-- each replica's outbox listener, which wakes the relay.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('platform_outbox', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
