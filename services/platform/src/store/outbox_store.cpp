#include "store/outbox_store.hpp"

#include <soci/postgresql/soci-postgresql.h>

namespace platform {

namespace {

constexpr long long relay_lock = 0x72656c6179; // "relay" in ASCII

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

outbox_store::outbox_store(const std::string& connection, std::chrono::milliseconds lease)
  : sql_(soci::postgresql, connection) {
  // Server side, as the server holds the lock: keepalives every 2 s after
  // 5 s of silence, the session ended after 3 unanswered (or 10 s of unacked
  // data); and ended once idle past the lease.
  sql_ << "SET tcp_keepalives_idle = 5";
  sql_ << "SET tcp_keepalives_interval = 2";
  sql_ << "SET tcp_keepalives_count = 3";
  sql_ << "SET tcp_user_timeout = 10000";
  sql_ << "SET idle_session_timeout = " << lease.count();
}

std::vector<outbox_event> outbox_store::pending(std::size_t limit, id_range skip) {
  std::vector<outbox_event> out;
  if (limit == 0)
    return out;
  std::vector<long long> ids(limit);
  std::vector<std::string> message_ids(limit), types(limit), payloads(limit), correlations(limit),
    traceparents(limit);
  long long max_rows = static_cast<long long>(limit);
  long long skip_first = skip.first, skip_last = skip.last;
  // A one-off statement: PostgreSQL's unnamed one, where a prepared
  // statement would cost a DEALLOCATE (a round trip and a transaction) each
  // time; the relay runs this after each wake and each poll.
  sql_ << "SELECT id, CAST(message_id AS text), type, payload,"
          " correlation_id, traceparent FROM outbox"
          " WHERE published_at IS NULL"
          " AND parked_at IS NULL"
          " AND NOT (id BETWEEN :first AND :last)"
          " ORDER BY id LIMIT :n",
    soci::use(skip_first), soci::use(skip_last), soci::use(max_rows), soci::into(ids),
    soci::into(message_ids), soci::into(types), soci::into(payloads), soci::into(correlations),
    soci::into(traceparents);
  // SOCI leaves a one-element vector untouched when no row comes back.
  if (!sql_.got_data())
    return out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    out.push_back({ids[i], std::move(message_ids[i]), std::move(types[i]), std::move(payloads[i]),
                   std::move(correlations[i]), std::move(traceparents[i])});
  return out;
}

void outbox_store::mark_published(const std::vector<std::int64_t>& ids) {
  if (ids.empty())
    return;
  auto array = bigint_array(ids);
  sql_ << "UPDATE outbox SET published_at = now() WHERE id = ANY(CAST(:ids AS bigint[]))",
    soci::use(array);
}

void outbox_store::park(std::int64_t id, const std::string& reason) {
  long long row = id;
  sql_ << "UPDATE outbox SET parked_at = now(), parked_reason = :reason"
          " WHERE id = :id AND published_at IS NULL",
    soci::use(reason), soci::use(row);
}

std::int64_t outbox_store::backlog() {
  long long n = 0;
  sql_ << "SELECT count(*) FROM outbox WHERE published_at IS NULL AND parked_at IS NULL",
    soci::into(n);
  return n;
}

bool outbox_store::lead() {
  int held = 0;
  sql_ << "SELECT CAST(pg_try_advisory_lock(" << relay_lock << ") AS int)", soci::into(held);
  return held == 1;
}

bool outbox_store::holds_lead() {
  int held = 0;
  sql_ << "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
          " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = "
       << relay_lock,
    soci::into(held);
  return held > 0;
}

std::size_t outbox_store::delete_published(std::chrono::milliseconds age, std::size_t limit) {
  long long ms = age.count();
  long long rows = static_cast<long long>(limit);
  soci::statement st = (sql_.prepare << "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                                        " WHERE published_at < now() - :ms * interval '1 ms'"
                                        " ORDER BY published_at LIMIT :n)",
                        soci::use(ms), soci::use(rows));
  st.execute(true);
  return static_cast<std::size_t>(st.get_affected_rows());
}

} // namespace platform
