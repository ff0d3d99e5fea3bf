#pragma once
// platform.migrations: the first step of the tree. It applies the schema
// migrations once (see schema.hpp: under a lock, so replicas starting
// together apply each once), records the version in `status`, and exits
// normally: a transient child, restarted with backoff only while the database
// refuses (meanwhile /readyz says not ready and the relay waits).
#include "store/schema.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>

namespace platform {

caf::actor spawn_migrations(caf::actor_system& sys, const std::string& database,
                            std::shared_ptr<schema_status> status);

} // namespace platform
