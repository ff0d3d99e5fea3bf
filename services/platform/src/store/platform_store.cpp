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
// body is published_event's text with the new id put in between.
struct platform_store::create_statement {
  explicit create_statement(soci::session& sql)
    : statement((sql.prepare << "WITH created AS ("
                                "INSERT INTO platforms (name, publisher, cost)"
                                " VALUES (:name, :publisher, :cost) RETURNING id),"
                                " event AS (INSERT INTO outbox (type, payload, correlation_id,"
                                " traceparent) SELECT :type, :head || CAST(id AS text) || :tail,"
                                " :correlation, :traceparent FROM created)"
                                " SELECT id FROM created",
                 soci::use(values.name), soci::use(values.publisher), soci::use(values.cost),
                 soci::use(type), soci::use(event_head), soci::use(event_tail),
                 soci::use(correlation_id), soci::use(traceparent), soci::into(id))) {}
  new_platform values;
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

caf::expected<platform_record> platform_store::create(const new_platform& p,
                                                     const std::string& correlation_id,
                                                     const std::string& traceparent) {
  if (auto refused =
        shared::sql::refuse_nul({p.name, p.publisher, p.cost, correlation_id, traceparent}))
    return std::move(*refused);
  return shared::sql::refusing([&] {
    if (!create_)
      create_ = std::make_unique<create_statement>(sql_);
    auto& c = *create_;
    c.values = p;
    auto event = published_event_around_id(p.name);
    c.event_head = std::move(event.head);
    c.event_tail = std::move(event.tail);
    c.correlation_id = correlation_id;
    c.traceparent = traceparent;
    c.statement.execute(true);
    return platform_record{c.id, p.name, p.publisher, p.cost};
  });
}

} // namespace platform
