#pragma once
// The Platform Service's data access over one SOCI PostgreSQL session: plain
// values in and out, every query parameterised, failures as soci_error
// exceptions (the caller decides; the repository actor fails on them).
#include "platform.hpp"

#include <soci/soci.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace platform {

class platform_store {
public:
  // Opens its own session on `connection` (libpq keyword or URL form).
  explicit platform_store(const std::string& connection);
  ~platform_store();

  soci::session& session() { return sql_; }

  // Applies missing migrations (see schema.hpp); returns the versions applied.
  std::vector<int> migrate();
  // True when the database answers and every migration is applied.
  bool ready();

  std::vector<platform_record> all();
  // Up to `limit` platforms with ids above `after_id`, ascending (keyset paging).
  std::vector<platform_record> page(std::int32_t after_id, std::size_t limit);
  std::optional<platform_record> find(std::int32_t id);
  // Inserts the platform and its Platform_Published outbox row in one transaction.
  platform_record create(const new_platform& p, const std::string& correlation_id);

  // Up to `limit` unpublished events, oldest first, leaving out the ids in
  // `skip` (the relay's events in flight: published, confirms not yet read).
  std::vector<outbox_event> pending(std::size_t limit, id_range skip = {});
  // True when this session holds, or now takes, the relay lock: one relay
  // per database publishes, so replicas do not send each event twice and out
  // of order. The lock lives as long as the session (a dead relay frees it).
  bool lead_relay();
  void mark_published(const std::vector<std::int64_t>& ids);
  std::int64_t backlog();

  // Relay wakes across replicas (PostgreSQL LISTEN/NOTIFY): a standby tells
  // the leader, wherever it runs, that it committed an outbox row.
  void notify_relay();
  void listen_for_relay_wakes();
  // Waits up to `timeout` for notifications on a listening session; true when
  // any arrived (all of them are consumed). Throws when the session is broken.
  bool wait_for_relay_wake(std::chrono::milliseconds timeout);

private:
  soci::session sql_;
  // The hot path keeps one prepared statement (parsed and planned once).
  struct find_statement;
  std::unique_ptr<find_statement> find_;
};

} // namespace platform
