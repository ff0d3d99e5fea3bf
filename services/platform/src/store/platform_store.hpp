#pragma once
// The platforms, over one SOCI PostgreSQL session: plain values in and out,
// every query parameterised. A create the database refuses for its values (a
// constraint, a value it cannot store: see shared/sql/refusal.hpp) is an
// error value, kind invalid; other failures (the database away) are
// soci_error exceptions (the repository actor fails on them and is
// restarted). The schema is applied before (see schema.hpp); this class never
// changes it.
#include "platform.hpp"

#include <soci/soci.h>

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

  // Throws when the database does not answer.
  void ping();

  std::vector<platform_record> all();
  // Up to `limit` platforms with ids above `after_id`, ascending (keyset paging).
  std::vector<platform_record> page(std::int32_t after_id, std::size_t limit);
  std::optional<platform_record> find(std::int32_t id);
  // The platform and its Platform_Published outbox row in one statement;
  // the commit notifies the relays (the outbox's trigger, migration 004).
  // Refused values: an error (shared::sql::errc::refused), nothing written.
  // The outbox row keeps the origin's request id and traceparent for the
  // event's headers. With an idempotency key that created a platform before,
  // nothing is written: the answer is that platform, replayed, or
  // platform_errc::key_reused when it was created with other values.
  caf::expected<created_platform> create(const new_platform& p, const create_origin& origin = {});

private:
  soci::session sql_;
  // The hot paths keep their prepared statements (parsed and planned once).
  struct find_statement;
  std::unique_ptr<find_statement> find_;
  struct create_statement;
  std::unique_ptr<create_statement> create_;
  caf::expected<created_platform> replay(const new_platform& p, const std::string& key);
};

} // namespace platform
