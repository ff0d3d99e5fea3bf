#pragma once
// platform.outbox_relay: on its own thread, with its own database session and
// broker connection (services/shared/amqp), and once it holds the database's
// relay lock (one relay per database, however many replicas), it publishes
// pending outbox rows oldest first, persistent and mandatory, with batches
// pipelined under publisher confirms, and marks them published only after
// the broker confirmed them. Then it waits for a wake (a commit, heard by
// platform.outbox_listener) or its next poll. It looks for pending rows only
// when some may wait (a wake, a poll, a batch cut at its size, a nack), and
// with batches in flight at most once per OutboxWakeLinger: under steady
// creates the wakes of that time make one batch, and a lone event, seen from
// idle, is looked for at once. It waits for the schema
// (platform.migrations) before touching the outbox.
//
// A row the broker will not take (larger than OutboxMaxEventBytes, nacked
// again and again while others pass, or closing the channel with 406) is
// parked: marked in the outbox, logged (event_parked, with its id), counted
// (outbox_parked_total{reason}), and the rows after it keep flowing
// (outbox/refusals.hpp). An event that no queue bound to `trigger` receives
// goes to the alternate exchange `trigger.unrouted`, whose durable queue keeps
// it (shared/amqp/topology.hpp); the leading relay counts those each second
// (outbox_unrouted_total, events_unrouted in the log).
//
// Each second the leader checks that its session still holds the lock (a
// session idle past OutboxLeaderLease is ended by PostgreSQL, and a standby
// may lead by then: store/outbox_store.hpp), and at most each minute it
// deletes rows published more than OutboxRetention ago.
//
// Any database or broker error fails the actor; its supervisor restarts it
// with backoff and the new instance drains what is left. A crash between
// confirm and mark, or a stop with batches in flight, publishes those rows
// again: delivery is at least once, and consumers are idempotent (message_id,
// and the platform id in the event).
#include "config.hpp"
#include "platform.hpp"
#include "store/schema.hpp"

#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <memory>

namespace platform {

// wake_atom: a commit may have left events (from any thread, through the
// relay's stable handle). tick_atom: the relay's own rounds and polls.
using outbox_relay_actor =
  caf::typed_actor<caf::reacts_to<wake_atom>, caf::reacts_to<tick_atom, std::uint64_t>>;

caf::actor spawn_relay(caf::actor_system& sys, const relay_config& cfg,
                       std::shared_ptr<shared::metrics::registry> metrics,
                       std::shared_ptr<const schema_status> schema);

} // namespace platform
