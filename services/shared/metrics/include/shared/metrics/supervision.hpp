#pragma once
// Supervision in /metrics: actor_restarts_total{actor} counts each restart a
// supervisor reports through its observer hook.
//
//   auto restarts = shared::metrics::restart_counter(metrics);
//   spec.observer = restarts; // on every supervisor of the tree
#include "shared/metrics/registry.hpp"

#include <actors/supervisor.hpp>

#include <memory>

namespace shared::metrics {

// The observer shares the registry, so it may outlive the caller's pointer.
actors::supervision_observer restart_counter(std::shared_ptr<registry> metrics);

} // namespace shared::metrics
