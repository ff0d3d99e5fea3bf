#pragma once
// platform.outbox_listener: hears the relay wakes that other replicas send
// (PostgreSQL LISTEN on its own session) and rings this replica's doorbell,
// so that a platform created on a standby replica reaches the broker as soon
// as the leading replica's relay hears of it, not at its next poll. A broken
// session fails the actor; its supervisor restarts it with backoff (meanwhile
// the relay's poll is the safety net).
#include "outbox/relay_doorbell.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>

namespace platform {

caf::actor spawn_outbox_listener(caf::actor_system& sys, std::string database,
                                 std::shared_ptr<relay_doorbell> doorbell);

} // namespace platform
