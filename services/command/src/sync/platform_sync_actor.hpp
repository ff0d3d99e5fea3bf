#pragma once
// command.platform_sync: pulls every platform from the Platform Service over
// gRPC and adds the missing ones, as the course does at start; beyond the
// course, again every `interval` and whenever asked with `sync_atom` (no
// reply; the subscriber asks after each reconnect), so a gap left by any
// failure closes by itself. Pages of StreamAllPlatforms go to the repository
// one at a time as they arrive (GetAllPlatforms, cut into pages, from a peer
// without the stream); each `synced` line names the RPC used. A failed sync
// is retried with backoff (the pages committed before the failure stay); it
// never fails the actor or the service.
#include "config.hpp"

#include <actors/handle.hpp>
#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <memory>

namespace command {

// Runs on its own thread (the gRPC reads and the repository calls block, each
// up to its deadline).
caf::actor spawn_platform_sync(caf::actor_system& sys, platform_sync_config config,
                               actors::handle repository,
                               std::shared_ptr<shared::metrics::registry> metrics);

} // namespace command
