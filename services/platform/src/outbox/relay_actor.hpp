#pragma once
// The outbox relay: on its own thread, with its own database session and
// broker connection, and once it holds the database's relay lock (one relay
// per database, however many replicas), it publishes pending outbox rows
// oldest first, marks them published only after the broker confirmed them,
// then waits for the doorbell (a commit) or the next poll. Any database or
// broker error fails the actor; its supervisor restarts it with backoff and
// the new instance drains what is left. A crash between confirm and mark
// republishes those rows: consumers are idempotent (message_id).
#include "config.hpp"
#include "outbox/relay_doorbell.hpp"

#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <memory>

namespace platform {

caf::actor spawn_relay(caf::actor_system& sys, const relay_config& cfg,
                       std::shared_ptr<shared::metrics::registry> metrics,
                       std::shared_ptr<relay_doorbell> doorbell);

} // namespace platform
