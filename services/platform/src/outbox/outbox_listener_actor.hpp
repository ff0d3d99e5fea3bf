#pragma once
// platform.outbox_listener: hears each commit that wrote an outbox row, on
// any replica (PostgreSQL LISTEN on its own connection; the create's
// transaction notifies), and wakes this replica's relay through its stable
// handle, so that an event reaches the broker as soon as it is committed
// instead of at the relay's next poll. A burst of commits is one wake; only a
// leading relay acts on it. A broken connection fails the actor; its
// supervisor restarts it with backoff (meanwhile the relay's poll is the
// safety net).
#include <actors/handle.hpp>

#include <caf/all.hpp>

#include <string>

namespace platform {

caf::actor spawn_outbox_listener(caf::actor_system& sys, std::string database,
                                 actors::handle relay);

} // namespace platform
