#pragma once
// Versioned schema migrations (services/platform/migrations/NNN_name.sql,
// compiled in). They are applied in one transaction under a PostgreSQL
// advisory lock and recorded in schema_migrations, so running them twice, or
// from two replicas starting at once, applies each exactly once.
#include <soci/soci.h>

#include <atomic>
#include <string>
#include <vector>

namespace platform {

struct migration_file {
  std::string name; // e.g. "001_create_platforms.sql"
  std::string sql;
};

struct migration {
  int version = 0;
  std::string name;
  std::string sql;
};

// The files under migrations/, sorted by name.
const std::vector<migration_file>& migration_files();

// Versions from the names' leading numbers, ascending. Throws
// std::invalid_argument for a name without one or a repeated version.
std::vector<migration> parse_migrations(const std::vector<migration_file>& files);

// Applies the migrations not recorded yet, in order; returns their versions.
std::vector<int> apply_migrations(soci::session& sql, const std::vector<migration>& migrations);

// The highest recorded version; 0 when nothing was applied yet.
int applied_version(soci::session& sql);

// The version of the newest compiled-in migration.
int latest_version();

// What the migrations step found, for readiness and the relay (which waits
// for its tables): thread-safe, set once the schema is current.
class schema_status {
public:
  void applied(int version) { version_ = version; }
  bool current() const { return version_.load() >= latest_version(); }

private:
  std::atomic<int> version_{0};
};

} // namespace platform
