#pragma once
// The outbox as the relay sees it, over its own SOCI PostgreSQL session:
// pending events oldest first, marking them published or parked (rows the
// broker will not take: skipped from then on), the backlog, and the relay
// leadership (one relay per database, however many replicas). Failures
// are soci_error exceptions; the relay fails on them and is restarted.
#include "platform.hpp"

#include <soci/soci.h>

#include <cstdint>
#include <string>
#include <vector>

namespace platform {

// The channel every commit adding outbox rows notifies (the outbox's trigger,
// migrations/004_notify_outbox.sql) and each replica's outbox listener LISTENs to.
inline constexpr const char* outbox_channel = "platform_outbox";

class outbox_store {
public:
  explicit outbox_store(const std::string& connection);

  // Up to `limit` events neither published nor parked, oldest first, leaving
  // out the ids in `skip` (the relay's events in flight: published, confirms
  // not yet read).
  std::vector<outbox_event> pending(std::size_t limit, id_range skip = {});
  void mark_published(const std::vector<std::int64_t>& ids);
  // Sets parked_at and parked_reason (migrations/005_park_outbox.sql).
  void park(std::int64_t id, const std::string& reason);
  // Events committed, not parked, and not yet confirmed by the broker.
  std::int64_t backlog();
  // True when this session holds, or now takes, the relay lock: one relay
  // per database publishes, so replicas do not send each event twice and out
  // of order. The lock lives as long as the session (a dead relay frees it).
  bool lead();

private:
  soci::session sql_;
};

} // namespace platform
