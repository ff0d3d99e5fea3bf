#pragma once
// The outbox as the relay sees it, over its own SOCI PostgreSQL session:
// pending events oldest first, marking them published or parked (rows the
// broker will not take: skipped from then on), the backlog, and the relay
// leadership (one relay per database, however many replicas), and deleting
// published rows once they are old. Failures are soci_error exceptions; the
// relay fails on them and is restarted.
//
// The relay lock is a session-level advisory lock: it is freed only when the
// session ends. So that a leader that stops answering (frozen by SIGSTOP, a
// host gone, a link dropped half-open) does not keep it for hours, the
// session asks PostgreSQL to end it when it sits idle past `lease`
// (idle_session_timeout: PostgreSQL 14 or newer) or when its client stops
// answering TCP keepalives; a healthy relay runs a statement each second.
#include "platform.hpp"

#include <soci/soci.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace platform {

// The channel every commit adding outbox rows notifies (the outbox's trigger,
// migrations/004_notify_outbox.sql) and each replica's outbox listener LISTENs to.
inline constexpr const char* outbox_channel = "platform_outbox";

// How long the relay's session may sit idle before PostgreSQL ends it (and
// with it the relay lock); more than the longest wait between two statements.
inline constexpr std::chrono::milliseconds default_relay_lease{15'000};

class outbox_store {
public:
  explicit outbox_store(const std::string& connection,
                        std::chrono::milliseconds lease = default_relay_lease);

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
  // True while this session still holds the relay lock (false once
  // PostgreSQL ended and a reconnect replaced it, or it was never taken).
  bool holds_lead();
  // Deletes up to `limit` rows published more than `age` ago; returns how many.
  std::size_t delete_published(std::chrono::milliseconds age, std::size_t limit);

private:
  soci::session sql_;
};

} // namespace platform
