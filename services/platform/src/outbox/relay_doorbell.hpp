#pragma once
// Wakes the outbox relay as soon as a platform is committed instead of at its
// next poll, so an event reaches the broker within a round trip. Rings
// collapse into one wake until the relay takes it, so a burst of creates
// costs one message, and a ring while no relay runs costs nothing: the next
// instance drains the backlog when it starts. Commits on other replicas
// arrive through the outbox listener (PostgreSQL NOTIFY). The poll stays as
// the safety net (a wake lost with a dying relay or listener).
#include <caf/all.hpp>

#include <atomic>
#include <mutex>

namespace platform {

class relay_doorbell {
public:
  // From any thread, after a commit that wrote an outbox row.
  void ring();
  // From the outbox listener: another replica committed one. Not collapsed
  // (the database already merges notifications); only a leading relay acts.
  void ring_from_replica();
  // By each relay instance when it starts: wakes go to it from now on.
  void attach(const caf::actor& relay);
  // By the relay when a wake arrives, before it reads the outbox.
  void take() { rung_ = false; }

private:
  std::atomic<bool> rung_{false};
  std::mutex mutex_;
  caf::actor_addr relay_; // weak: a dead relay is not kept alive
};

} // namespace platform
