#pragma once
// The Command Service's data over one SOCI session (SQLite or PostgreSQL):
// platforms keyed by the Platform Service's id, commands referencing them.
// Plain logic, no actors: the repository actor adds the mailbox. A write
// whose values the database refuses (a constraint, a value it cannot store:
// see shared/sql/refusal.hpp) is an error value, kind invalid, with nothing
// written; other database failures throw soci::soci_error; "not found" is an
// empty optional.
#include "model.hpp"

#include <soci/soci.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace command {

// Opens a session for `connection`: ":memory:" is the process's one shared
// in-memory SQLite database (see sqlite_memory_uri), "sqlite:<path>" a SQLite
// file, anything else a PostgreSQL connection string.
std::unique_ptr<soci::session> open_session(const std::string& connection);

// True when `connection` names the process's in-memory database.
bool is_in_memory(const std::string& connection);

// The shared-cache URI behind ":memory:": every session of the process that
// opens it sees the same database, which lives while one of them is open.
std::string sqlite_memory_uri(const std::string& name = "command-service");

class command_store {
public:
  explicit command_store(soci::session& db) : db_(db) {}

  // Creates the tables when absent (idempotent).
  void migrate();

  // False when the platform was already there (then nothing changes: events
  // and syncs may repeat a platform).
  caf::expected<bool> add_platform(const platform& p);
  // In one transaction (one refused platform: none is added); returns how
  // many were new.
  caf::expected<std::size_t> add_platforms(const std::vector<platform>& ps);
  // Each platform's outcome, in the order given: the ones whose values the
  // store accepts commit together in one transaction; a refused one is left
  // out, with its error, and does not hold the others back.
  std::vector<platform_write> add_each(const std::vector<platform>& ps);

  std::vector<platform> platforms();
  bool has_platform(std::int32_t id);
  // Empty when the platform is unknown.
  std::optional<std::vector<command_record>> commands(std::int32_t platform_id);
  std::optional<command_record> command(std::int32_t platform_id, std::int32_t command_id);
  // Or unknown_platform.
  caf::expected<command_record> add_command(std::int32_t platform_id, const command_input& in);

  // Every command, for rebuilding a read model.
  std::vector<command_record> all_commands();

private:
  bool postgres() const;
  bool insert_platform(const platform& p);
  // In one transaction; whether each was new.
  std::vector<bool> insert_platforms(std::vector<const platform*> rows);

  soci::session& db_;
};

} // namespace command
