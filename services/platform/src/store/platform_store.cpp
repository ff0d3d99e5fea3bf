#include "store/platform_store.hpp"

#include <shared/sql/refusal.hpp>

#include <soci/postgresql/soci-postgresql.h>

namespace platform {

struct platform_store::find_statement {
  explicit find_statement(soci::session& sql)
    : statement((sql.prepare << "SELECT id, name, publisher, cost FROM platforms WHERE id = :id",
                 soci::into(row.id), soci::into(row.name), soci::into(row.publisher),
                 soci::into(row.cost), soci::use(id))) {}
  std::int32_t id = 0;
  platform_record row;
  soci::statement statement;
};

// The platform and its outbox row in one statement: one round trip, and a
// statement commits atomically on its own (no BEGIN, no COMMIT). The event
// body is published_event's text with the new id put in between. A key
// that is already there inserts nothing, outbox row included (a concurrent
// insert of the same key is waited for first).
struct platform_store::create_statement {
  explicit create_statement(soci::session& sql)
    : statement((sql.prepare << "WITH created AS ("
                                "INSERT INTO platforms (name, publisher, cost, idempotency_key)"
                                " VALUES (:name, :publisher, :cost, NULLIF(:key, ''))"
                                " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL"
                                " DO NOTHING RETURNING id),"
                                " event AS (INSERT INTO outbox (type, payload, correlation_id,"
                                " traceparent) SELECT :type, :head || CAST(id AS text) || :tail,"
                                " :correlation, :traceparent FROM created)"
                                " SELECT id FROM created",
                 soci::use(values.name), soci::use(values.publisher), soci::use(values.cost),
                 soci::use(key), soci::use(type), soci::use(event_head), soci::use(event_tail),
                 soci::use(correlation_id), soci::use(traceparent), soci::into(id))) {}
  new_platform values;
  std::string key;
  std::string type = platform_published;
  std::string event_head;
  std::string event_tail;
  std::string correlation_id;
  std::string traceparent;
  std::int32_t id = 0;
  soci::statement statement;
};

platform_store::platform_store(const std::string& connection)
  : sql_(soci::postgresql, connection) {}

platform_store::~platform_store() = default;

void platform_store::ping() {
  int one = 0;
  sql_ << "SELECT 1", soci::into(one);
}

std::vector<platform_record> platform_store::all() {
  // Fetched in bulk: a row at a time costs a round of SOCI bookkeeping each.
  constexpr std::size_t chunk = 4096;
  std::vector<platform_record> out;
  std::vector<std::int32_t> ids(chunk);
  std::vector<std::string> names(chunk), publishers(chunk), costs(chunk);
  soci::statement st = (sql_.prepare << "SELECT id, name, publisher, cost FROM platforms ORDER BY id",
                        soci::into(ids), soci::into(names), soci::into(publishers),
                        soci::into(costs));
  st.execute();
  while (st.fetch()) {
    for (std::size_t i = 0; i < ids.size(); ++i)
      out.push_back({ids[i], std::move(names[i]), std::move(publishers[i]), std::move(costs[i])});
    ids.resize(chunk);
    names.resize(chunk);
    publishers.resize(chunk);
    costs.resize(chunk);
  }
  return out;
}

std::vector<platform_record> platform_store::page(std::int32_t after_id, std::size_t limit) {
  std::vector<platform_record> out;
  if (limit == 0)
    return out;
  std::vector<std::int32_t> ids(limit);
  std::vector<std::string> names(limit), publishers(limit), costs(limit);
  long long max_rows = static_cast<long long>(limit);
  soci::statement st = (sql_.prepare << "SELECT id, name, publisher, cost FROM platforms"
                                        " WHERE id > :after ORDER BY id LIMIT :n",
                        soci::use(after_id), soci::use(max_rows), soci::into(ids),
                        soci::into(names), soci::into(publishers), soci::into(costs));
  // SOCI leaves a one-element vector untouched when no row comes back.
  if (!st.execute(true))
    return out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    out.push_back({ids[i], std::move(names[i]), std::move(publishers[i]), std::move(costs[i])});
  return out;
}

std::optional<platform_record> platform_store::find(std::int32_t id) {
  if (!find_)
    find_ = std::make_unique<find_statement>(sql_);
  find_->id = id;
  find_->statement.execute(true);
  if (!find_->statement.got_data())
    return std::nullopt;
  return find_->row;
}

caf::expected<created_platform> platform_store::create(const new_platform& p,
                                                      const create_origin& origin) {
  if (auto refused = shared::sql::refuse_nul({p.name, p.publisher, p.cost, origin.request_id,
                                              origin.traceparent, origin.idempotency_key}))
    return std::move(*refused);
  auto created = shared::sql::refusing([&] {
    if (!create_)
      create_ = std::make_unique<create_statement>(sql_);
    auto& c = *create_;
    c.values = p;
    c.key = origin.idempotency_key;
    auto event = published_event_around_id(p.name);
    c.event_head = std::move(event.head);
    c.event_tail = std::move(event.tail);
    c.correlation_id = origin.request_id;
    c.traceparent = origin.traceparent;
    c.statement.execute(true);
    return c.statement.got_data() ? std::optional{platform_record{c.id, p.name, p.publisher, p.cost}}
                                  : std::nullopt;
  });
  if (!created)
    return std::move(created.error());
  if (!*created)
    return replay(p, origin.idempotency_key);
  return created_platform{std::move(**created), false};
}

caf::expected<created_platform> platform_store::replay(const new_platform& p,
                                                      const std::string& key) {
  platform_record first;
  sql_ << "SELECT id, name, publisher, cost FROM platforms WHERE idempotency_key = :key",
    soci::into(first.id), soci::into(first.name), soci::into(first.publisher),
    soci::into(first.cost), soci::use(key);
  if (!sql_.got_data()) // platforms are never deleted: a conflict leaves its row
    throw soci::soci_error("the platform of Idempotency-Key '" + key + "' is not there");
  if (first.name != p.name || first.publisher != p.publisher || first.cost != p.cost)
    return make_error(platform_errc::key_reused,
                      std::string{"The Idempotency-Key created platform "}
                        .append(std::to_string(first.id))
                        .append(" with other values; use a new key for a new platform."));
  return created_platform{std::move(first), true};
}

} // namespace platform
