#pragma once
// command.platform_sync: pulls every platform from the Platform Service over
// gRPC and adds the missing ones, as the course does at start; beyond the
// course, again every `interval` and whenever asked (the subscriber asks after
// each reconnect), so a gap left by any failure closes by itself. A failed
// sync is retried with backoff; it never fails the actor or the service.
#include "model.hpp"
#include "sync/platform_client.hpp"

#include <actors/backoff.hpp>
#include <actors/handle.hpp>
#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <memory>

namespace command {

// sync_atom: sync now (no reply).
using platform_sync_actor = caf::typed_actor<caf::reacts_to<sync_atom>>;

struct platform_sync_config {
  grpc_target target;
  std::string ca_pem;                            // for https://; empty: gRPC's default roots
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds deadline{2'000};     // per gRPC call
  std::chrono::milliseconds repository_timeout{2'000};
  actors::backoff_policy retry{std::chrono::milliseconds{500}, std::chrono::milliseconds{30'000}, 0.2};
};

// Runs on its own thread (the gRPC call blocks up to its deadline).
caf::actor spawn_platform_sync(caf::actor_system& sys, platform_sync_config config,
                               actors::handle repository,
                               std::shared_ptr<shared::metrics::registry> metrics);

} // namespace command
