#pragma once
// command.repository: the only owner of the store's SOCI session. Writes go
// through it; reads too when there is no read model (PostgreSQL). Values the
// database refuses are answered with the store's error (kind invalid: 400)
// and the actor keeps serving; any other database error fails the actor (the
// caller gets the error), and its supervisor restarts it with a fresh session.
#include "model.hpp"
#include "store/read_model.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace command {

using repository_actor = caf::typed_actor<
  caf::replies_to<add_atom, std::vector<platform>>::with<std::size_t>,     // how many new
  caf::replies_to<apply_atom, std::vector<platform>>::with<std::vector<platform_write>>, // each
  caf::replies_to<add_atom, std::int32_t, command_input>::with<command_record>, // or unknown_platform
  caf::replies_to<caf::get_atom>::with<std::vector<platform>>,
  caf::replies_to<caf::get_atom, std::int32_t>::with<std::vector<command_record>>,
  caf::replies_to<caf::get_atom, std::int32_t, std::int32_t>::with<command_record>,
  caf::replies_to<ping_atom>::with<caf::ok_atom>>;

// Runs on its own thread (queries block). `database` as open_session() takes
// it; `view`, when set, is kept up to date after each commit.
caf::actor spawn_repository(caf::actor_system& sys, std::string database,
                            std::shared_ptr<read_model> view);

// For the in-memory database: a session that keeps it alive while the
// repository restarts (hold it as long as the service runs). Null otherwise.
std::shared_ptr<soci::session> keep_database(const std::string& database);

} // namespace command
