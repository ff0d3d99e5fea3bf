#include "store/command_store.hpp"

#include <shared/sql/refusal.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

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

// One statement prepared for all rows: preparing it per row was most of the
// time a sync of 150,000 platforms took (1.7 s of 1.8 s; now 0.26-0.45 s).
caf::expected<std::size_t> command_store::add_platforms(const std::vector<platform>& ps) {
  for (auto& p : ps)
    if (auto refused = shared::sql::refuse_nul({p.name}))
      return std::move(*refused);
  return shared::sql::refusing([&] {
    std::size_t added = 0;
    platform row;
    soci::transaction tx{db_};
    soci::statement st = (db_.prepare << insert_platform_sql, use(row.id), use(row.name));
    for (auto& p : ps) {
      row = p;
      st.execute(true);
      added += st.get_affected_rows() > 0 ? 1 : 0;
    }
    tx.commit();
    return added;
  });
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
