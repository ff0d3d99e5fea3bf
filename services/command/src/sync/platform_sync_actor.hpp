#pragma once
// command.platform_sync: pulls every platform from the Platform Service over
// gRPC and adds the missing ones, as the course does at start; beyond the
// course, again every `interval` and whenever asked with `sync_atom` (no
// reply; the subscriber asks after each reconnect), so a gap left by any
// failure closes by itself. A failed sync is retried with backoff; it never
// fails the actor or the service.
#include "config.hpp"

#include <actors/handle.hpp>
#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <memory>

namespace command {

// Runs on its own thread (the gRPC call blocks up to its deadline).
caf::actor spawn_platform_sync(caf::actor_system& sys, platform_sync_config config,
                               actors::handle repository,
                               std::shared_ptr<shared::metrics::registry> metrics);

} // namespace command
