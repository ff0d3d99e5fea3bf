#include "store/schema.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace platform {

namespace {

// pg_advisory_xact_lock key: "platform" in ASCII, shared by every replica.
constexpr long long migration_lock = 0x706c6174666f726dLL;

} // namespace

std::vector<migration> parse_migrations(const std::vector<migration_file>& files) {
  std::vector<migration> out;
  std::set<int> seen;
  for (auto& f : files) {
    auto digits = f.name.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string::npos || f.name[digits] != '_')
      throw std::invalid_argument("migration " + f.name + ": name must start with NNN_");
    auto version = std::stoi(f.name.substr(0, digits));
    if (!seen.insert(version).second)
      throw std::invalid_argument("migration " + f.name + ": version "
                                  + std::to_string(version) + " appears twice");
    out.push_back({version, f.name, f.sql});
  }
  std::sort(out.begin(), out.end(),
            [](const migration& a, const migration& b) { return a.version < b.version; });
  return out;
}

std::vector<int> apply_migrations(soci::session& sql, const std::vector<migration>& migrations) {
  std::vector<int> applied;
  soci::transaction tx{sql};
  // Serialises replicas: the second waits here, then sees what the first recorded.
  sql << "SELECT pg_advisory_xact_lock(" << migration_lock << ")";
  sql << "SET LOCAL client_min_messages = warning"; // no "already exists" notices
  sql << "CREATE TABLE IF NOT EXISTS schema_migrations ("
         " version integer PRIMARY KEY, name text NOT NULL,"
         " applied_at timestamptz NOT NULL DEFAULT now())";
  int current = 0;
  soci::indicator ind;
  sql << "SELECT max(version) FROM schema_migrations", soci::into(current, ind);
  if (ind == soci::i_null)
    current = 0;
  for (auto& m : migrations) {
    if (m.version <= current)
      continue;
    try {
      sql << m.sql;
    } catch (const soci::soci_error& e) {
      throw std::runtime_error("migration " + m.name + " failed: " + e.what());
    }
    sql << "INSERT INTO schema_migrations (version, name) VALUES (:v, :n)", soci::use(m.version),
      soci::use(m.name);
    applied.push_back(m.version);
  }
  tx.commit();
  return applied;
}

int latest_version() {
  static const int latest = parse_migrations(migration_files()).back().version;
  return latest;
}

int applied_version(soci::session& sql) {
  int exists = 0;
  sql << "SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations'"
         " AND schemaname = current_schema()",
    soci::into(exists);
  if (!exists)
    return 0;
  int version = 0;
  soci::indicator ind;
  sql << "SELECT max(version) FROM schema_migrations", soci::into(version, ind);
  return ind == soci::i_null ? 0 : version;
}

} // namespace platform
