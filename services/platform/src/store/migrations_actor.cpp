#include "store/migrations_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>

#include <soci/postgresql/soci-postgresql.h>

namespace platform {

namespace {

const char* const name = "platform.migrations";

std::string versions(const std::vector<int>& vs) {
  if (vs.empty())
    return "none";
  std::string out = std::to_string(vs.front());
  for (std::size_t i = 1; i < vs.size(); ++i)
    out.append(",").append(std::to_string(vs[i]));
  return out;
}

void migrations(caf::blocking_actor* self, std::string database,
                std::shared_ptr<schema_status> status) {
  try {
    soci::session sql{soci::postgresql, database};
    auto applied = apply_migrations(sql, parse_migrations(migration_files()));
    status->applied(applied_version(sql));
    actors::log::info(name, "schema_current",
                      {{"applied", versions(applied)}, {"version", latest_version()}});
  } catch (const std::exception& e) {
    self->fail_state(actors::make_error(actors::errc::unhandled_exception, e.what()));
  }
}

} // namespace

caf::actor spawn_migrations(caf::actor_system& sys, const std::string& database,
                            std::shared_ptr<schema_status> status) {
  return sys.spawn(migrations, database, std::move(status));
}

} // namespace platform
