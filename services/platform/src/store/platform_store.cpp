#include "store/platform_store.hpp"

#include "store/schema.hpp"

#include <soci/postgresql/soci-postgresql.h>

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace platform {

namespace {

// The channel of relay wakes across replicas (LISTEN/NOTIFY).
const char* relay_channel = "platform_outbox";

PGconn* libpq_connection(soci::session& sql) {
  return static_cast<soci::postgresql_session_backend*>(sql.get_backend())->conn_;
}

// Ids as one PostgreSQL array literal ("{1,2,3}"): a batch is one parameter.
std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string array = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i)
      array += ',';
    array += std::to_string(ids[i]);
  }
  return array + "}";
}

} // namespace

struct platform_store::find_statement {
  explicit find_statement(soci::session& sql)
    : statement((sql.prepare << "SELECT id, name, publisher, cost FROM platforms WHERE id = :id",
                 soci::into(row.id), soci::into(row.name), soci::into(row.publisher),
                 soci::into(row.cost), soci::use(id))) {}
  std::int32_t id = 0;
  platform_record row;
  soci::statement statement;
};

platform_store::platform_store(const std::string& connection)
  : sql_(soci::postgresql, connection) {}

platform_store::~platform_store() = default;

std::vector<int> platform_store::migrate() {
  return apply_migrations(sql_, parse_migrations(migration_files()));
}

bool platform_store::ready() {
  auto latest = parse_migrations(migration_files()).back().version;
  return applied_version(sql_) >= latest;
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

platform_record platform_store::create(const new_platform& p, const std::string& correlation_id) {
  platform_record created{0, p.name, p.publisher, p.cost};
  soci::transaction tx{sql_};
  sql_ << "INSERT INTO platforms (name, publisher, cost) VALUES (:n, :p, :c) RETURNING id",
    soci::use(p.name), soci::use(p.publisher), soci::use(p.cost), soci::into(created.id);
  std::string type = platform_published;
  auto payload = published_event(created);
  sql_ << "INSERT INTO outbox (type, payload, correlation_id) VALUES (:t, :p, :c)",
    soci::use(type), soci::use(payload), soci::use(correlation_id);
  tx.commit();
  return created;
}

std::vector<outbox_event> platform_store::pending(std::size_t limit, id_range skip) {
  std::vector<outbox_event> out;
  if (limit == 0)
    return out;
  std::vector<long long> ids(limit);
  std::vector<std::string> message_ids(limit), types(limit), payloads(limit), correlations(limit);
  long long max_rows = static_cast<long long>(limit);
  long long skip_first = skip.first, skip_last = skip.last;
  soci::statement st = (sql_.prepare << "SELECT id, CAST(message_id AS text), type, payload,"
                                        " correlation_id FROM outbox WHERE published_at IS NULL"
                                        " AND NOT (id BETWEEN :first AND :last)"
                                        " ORDER BY id LIMIT :n",
                        soci::use(skip_first), soci::use(skip_last), soci::use(max_rows), soci::into(ids),
                        soci::into(message_ids), soci::into(types), soci::into(payloads),
                        soci::into(correlations));
  // SOCI leaves a one-element vector untouched when no row comes back.
  if (!st.execute(true))
    return out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    out.push_back({ids[i], std::move(message_ids[i]), std::move(types[i]), std::move(payloads[i]),
                   std::move(correlations[i])});
  return out;
}

bool platform_store::lead_relay() {
  constexpr long long relay_lock = 0x72656c6179; // "relay" in ASCII
  int held = 0;
  sql_ << "SELECT CAST(pg_try_advisory_lock(" << relay_lock << ") AS int)", soci::into(held);
  return held == 1;
}

void platform_store::mark_published(const std::vector<std::int64_t>& ids) {
  if (ids.empty())
    return;
  auto array = bigint_array(ids);
  sql_ << "UPDATE outbox SET published_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))",
    soci::use(array);
}

std::int64_t platform_store::backlog() {
  long long n = 0;
  sql_ << "SELECT count(*) FROM outbox WHERE published_at IS NULL", soci::into(n);
  return n;
}

void platform_store::notify_relay() { sql_ << "NOTIFY " << relay_channel; }

void platform_store::listen_for_relay_wakes() { sql_ << "LISTEN " << relay_channel; }

bool platform_store::wait_for_relay_wake(std::chrono::milliseconds timeout) {
  PGconn* conn = libpq_connection(sql_);
  pollfd socket{PQsocket(conn), POLLIN, 0};
  if (socket.fd < 0)
    throw std::runtime_error("relay wakes: the database session is closed");
  int ready = ::poll(&socket, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR)
    throw std::system_error(errno, std::generic_category(), "relay wakes: poll");
  if (ready <= 0)
    return false;
  if (PQconsumeInput(conn) == 0)
    throw std::runtime_error(std::string{"relay wakes: "} + PQerrorMessage(conn));
  bool woken = false;
  while (PGnotify* note = PQnotifies(conn)) {
    woken = true;
    PQfreemem(note);
  }
  return woken;
}

} // namespace platform
