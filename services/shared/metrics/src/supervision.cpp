#include "shared/metrics/supervision.hpp"

namespace shared::metrics {

actors::supervision_observer restart_counter(std::shared_ptr<registry> metrics) {
  auto* restarts = &metrics->counter("actor_restarts_total", "Restarts of each supervised actor",
                                     {"actor"});
  return [metrics = std::move(metrics), restarts](const actors::supervision_event& ev) {
    if (ev.kind == actors::supervision_event::child_restarted)
      restarts->inc({ev.child});
  };
}

} // namespace shared::metrics
