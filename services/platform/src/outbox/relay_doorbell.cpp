#include "outbox/relay_doorbell.hpp"

#include "platform.hpp"

namespace platform {

void relay_doorbell::ring() {
  if (rung_.exchange(true))
    return; // a wake is already on its way
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto relay = caf::actor_cast<caf::actor>(relay_))
    caf::anon_send(relay, wake_atom::value);
}

void relay_doorbell::ring_from_replica() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto relay = caf::actor_cast<caf::actor>(relay_))
    caf::anon_send(relay, replica_wake_atom::value);
}

void relay_doorbell::attach(const caf::actor& relay) {
  std::lock_guard<std::mutex> guard{mutex_};
  relay_ = relay.address();
  rung_ = false;
}

} // namespace platform
