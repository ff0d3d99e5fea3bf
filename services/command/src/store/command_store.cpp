#include "store/command_store.hpp"

#include <shared/sql/refusal.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace command {

using soci::into;
using soci::use;

bool is_in_memory(const std::string& connection) {
  return connection == ":memory:";
}

std::string sqlite_memory_uri(const std::string& name) {
  return "file:" + name + "?mode=memory&cache=shared";
}

std::unique_ptr<soci::session> open_session(const std::string& connection) {
  std::unique_ptr<soci::session> s;
  if (is_in_memory(connection))
    s = std::make_unique<soci::session>(soci::sqlite3, "db=" + sqlite_memory_uri());
  else if (connection.rfind("sqlite:", 0) == 0)
    s = std::make_unique<soci::session>(soci::sqlite3, "db=" + connection.substr(7));
  else
    return std::make_unique<soci::session>(soci::postgresql, connection);
  *s << "pragma foreign_keys = on";
  return s;
}

namespace {

constexpr long long migration_lock = 0x636d646d6967; // "cmdmig" in ASCII

} // namespace

bool command_store::postgres() const {
  return db_.get_backend_name() == "postgresql";
}

void command_store::migrate() {
  auto id = postgres() ? "serial primary key" : "integer primary key autoincrement";
  soci::transaction tx{db_};
  // Replicas on one database start together: "if not exists" alone races
  // (two creates, one fails on pg_type's unique key). The lock serializes them.
  if (postgres())
    db_ << "select pg_advisory_xact_lock(" << migration_lock << ")";
  db_ << "create table if not exists platforms ("
         "id integer primary key, name text not null)";
  db_ << "create table if not exists commands ("
      << "id " << id << ", "
      << "platform_id integer not null references platforms(id), "
         "how_to text not null, command_line text not null)";
  db_ << "create index if not exists commands_by_platform on commands(platform_id)";
  tx.commit();
}

namespace {

const char* const insert_platform_sql = "insert into platforms(id, name) values(:id, :name) "
                                        "on conflict (id) do nothing";

} // namespace

bool command_store::insert_platform(const platform& p) {
  auto id = p.id;
  auto name = p.name;
  soci::statement st = (db_.prepare << insert_platform_sql, use(id), use(name));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

caf::expected<bool> command_store::add_platform(const platform& p) {
  if (auto refused = shared::sql::refuse_nul({p.name}))
    return std::move(*refused);
  return shared::sql::refusing([&] { return insert_platform(p); });
}

namespace {

// PostgreSQL writes a batch in one statement: the rows as two arrays, one
// round trip, atomic without BEGIN and COMMIT. Rows repeating an id inside
// the batch conflict with the first one and are skipped like the others.
const char* const insert_unnested_sql =
  "insert into platforms(id, name) "
  "select * from unnest(cast(:ids as integer[]), cast(:names as text[])) "
  "on conflict (id) do nothing returning id";

// Array literals as PostgreSQL reads them: each text quoted, with its
// quotes and backslashes escaped ("NULL" quoted is a name, not a null).
std::string integer_array(const std::vector<const platform*>& rows) {
  std::string out = "{";
  for (auto* p : rows)
    out.append(std::to_string(p->id)).append(",");
  out.back() = '}';
  return out;
}

std::string text_array(const std::vector<const platform*>& rows) {
  std::string out = "{";
  for (auto* p : rows) {
    out += '"';
    for (char c : p->name) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += "\",";
  }
  out.back() = '}';
  return out;
}

} // namespace

// In id order: replicas writing overlapping batches lock the rows in the same
// order (no deadlock), and a repeated id keeps its first occurrence.
std::vector<bool> command_store::insert_platforms(std::vector<const platform*> rows) {
  std::vector<bool> added(rows.size());
  if (rows.empty())
    return added;
  std::vector<std::size_t> order(rows.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rows[a]->id < rows[b]->id; });
  std::vector<const platform*> sorted;
  for (auto i : order)
    sorted.push_back(rows[i]);
  if (postgres()) {
    auto ids = integer_array(sorted);
    auto names = text_array(sorted);
    std::vector<int> inserted(sorted.size());
    db_ << insert_unnested_sql, use(ids), use(names), into(inserted);
    std::unordered_set<int> fresh(inserted.begin(), inserted.end());
    for (auto i : order)
      added[i] = fresh.erase(rows[i]->id) > 0; // the first occurrence of an id takes it
    return added;
  }
  // SQLite (in the process: no round trips): one statement prepared for all
  // rows. Preparing it per row was most of the time a sync of 150,000 took.
  platform row;
  soci::transaction tx{db_};
  soci::statement st = (db_.prepare << insert_platform_sql, use(row.id), use(row.name));
  for (auto i : order) {
    row = *rows[i];
    st.execute(true);
    added[i] = st.get_affected_rows() > 0;
  }
  tx.commit();
  return added;
}

caf::expected<std::size_t> command_store::add_platforms(const std::vector<platform>& ps) {
  std::vector<const platform*> rows;
  for (auto& p : ps) {
    if (auto refused = shared::sql::refuse_nul({p.name}))
      return std::move(*refused);
    rows.push_back(&p);
  }
  return shared::sql::refusing([&] {
    auto added = insert_platforms(rows);
    return static_cast<std::size_t>(std::count(added.begin(), added.end(), true));
  });
}

std::vector<platform_write> command_store::add_each(const std::vector<platform>& ps) {
  std::vector<platform_write> out(ps.size());
  std::vector<const platform*> rows;
  std::vector<std::size_t> at; // rows[k] is ps[at[k]]
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (auto refused = shared::sql::refuse_nul({ps[i].name})) {
      out[i].refused = std::move(*refused);
      continue;
    }
    rows.push_back(&ps[i]);
    at.push_back(i);
  }
  if (auto added = shared::sql::refusing([&] { return insert_platforms(rows); })) {
    for (std::size_t k = 0; k < rows.size(); ++k)
      out[at[k]].added = (*added)[k];
    return out;
  }
  // The database refused one of them and nothing was written: a platform
  // at a time tells which (rare: values are checked above).
  for (auto i : at) {
    if (auto added = add_platform(ps[i]))
      out[i].added = *added;
    else
      out[i].refused = std::move(added.error());
  }
  return out;
}

std::vector<platform> command_store::platforms() {
  std::vector<platform> out;
  platform p;
  soci::statement st = (db_.prepare << "select id, name from platforms order by id",
                        into(p.id), into(p.name));
  st.execute();
  while (st.fetch())
    out.push_back(p);
  return out;
}

bool command_store::has_platform(std::int32_t id) {
  int n = 0;
  db_ << "select count(*) from platforms where id = :id", use(id), into(n);
  return n > 0;
}

namespace {

// Runs a select of (id, platform_id, how_to, command_line) and collects the rows.
std::vector<command_record> fetch_commands(soci::statement& st, command_record& row) {
  std::vector<command_record> out;
  st.execute();
  while (st.fetch())
    out.push_back(row);
  return out;
}

constexpr const char* command_columns = "select id, platform_id, how_to, command_line from commands ";

} // namespace

std::optional<std::vector<command_record>> command_store::commands(std::int32_t platform_id) {
  if (!has_platform(platform_id))
    return std::nullopt;
  command_record r;
  soci::statement st = (db_.prepare << command_columns << "where platform_id = :p order by id",
                        use(platform_id), into(r.id), into(r.platform_id), into(r.how_to),
                        into(r.command_line));
  return fetch_commands(st, r);
}

std::optional<command_record> command_store::command(std::int32_t platform_id,
                                                     std::int32_t command_id) {
  command_record r;
  soci::statement st = (db_.prepare << command_columns << "where platform_id = :p and id = :c",
                        use(platform_id), use(command_id), into(r.id), into(r.platform_id),
                        into(r.how_to), into(r.command_line));
  auto rows = fetch_commands(st, r);
  if (rows.empty())
    return std::nullopt;
  return rows.front();
}

caf::expected<command_record> command_store::add_command(std::int32_t platform_id,
                                                         const command_input& in) {
  if (auto refused = shared::sql::refuse_nul({in.how_to, in.command_line}))
    return std::move(*refused);
  return shared::sql::refusing([&]() -> caf::expected<command_record> {
    soci::transaction tx{db_};
    if (!has_platform(platform_id))
      return unknown_platform(platform_id);
    command_record r{0, platform_id, in.how_to, in.command_line};
    db_ << "insert into commands(platform_id, how_to, command_line) values(:p, :h, :c) "
           "returning id",
      use(r.platform_id), use(r.how_to), use(r.command_line), into(r.id);
    tx.commit();
    return r;
  });
}

std::vector<command_record> command_store::all_commands() {
  command_record r;
  soci::statement st = (db_.prepare << command_columns << "order by id", into(r.id),
                        into(r.platform_id), into(r.how_to), into(r.command_line));
  return fetch_commands(st, r);
}

} // namespace command
