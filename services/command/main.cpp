// command-service: the whole supervision tree is built here.
//
// command.supervisor (one_for_one: siblings reach each other through stable
// handles, so one restarting does not disturb the others)
//   command.repository       the store's only session; reads via the read model
//   command.event_processor  bus event -> store, reports the outcome
//   command.platform_sync    gRPC pull of all platforms: at start, periodically, on request
//   command.bus              (supervisor: a broker outage restarts only this)
//     command.subscriber     durable queue, acks after commit, dead-letters poison
//   command.rest             /api/c/..., healthz, readyz, metrics
#include "config.hpp"
#include "store/command_store.hpp"
#include "store/repository_actor.hpp"

#include <actors/service.hpp>

namespace {

using namespace std::chrono_literals;

std::shared_ptr<shared::metrics::registry> make_metrics() {
  auto m = std::make_shared<shared::metrics::registry>();
  m->collect("actor_restarts_total", "Restarts per supervised actor", "counter", {"actor"}, [] {
    std::vector<std::pair<shared::metrics::label_values, double>> out;
    for (auto& [child, n] : actors::restart_counts())
      out.push_back({{child}, static_cast<double>(n)});
    return out;
  });
  return m;
}

actors::supervisor_spec supervision(actors::service_context& ctx, const command::config& cfg) {
  auto metrics = make_metrics();
  auto subscriber_status = std::make_shared<command::subscriber_status>();
  // The in-memory store is the process's own: the REST reads are served from
  // a copy the repository keeps (no actor hop), and a keeper session holds the
  // database across repository restarts.
  auto view = command::is_in_memory(cfg.database) ? std::make_shared<command::read_model>()
                                                  : nullptr;
  auto keeper = command::keep_database(cfg.database);

  auto repository = ctx.make_handle("command.repository");
  auto processor = ctx.make_handle("command.event_processor");
  auto sync = ctx.make_handle("command.platform_sync");
  auto subscriber = ctx.make_handle("command.subscriber");
  auto rest = ctx.make_handle("command.rest");

  actors::supervisor_spec bus;
  bus.name = "command.bus";
  // As the platform service's relay: backoff up to 5 s, so the subscriber is
  // back within ~5 s of the broker, and a long outage (~15 restarts a minute)
  // stays far below the intensity limit.
  bus.intensity = {100, 60s};
  bus.backoff = {200ms, 5s, 0.2};
  bus.children = {actors::child(subscriber, [=](caf::actor_system& sys) {
    return command::spawn_subscriber(sys, cfg.subscriber, processor, sync, subscriber_status,
                                     metrics);
  })};

  actors::supervisor_spec root;
  root.name = "command.supervisor";
  root.strategy = actors::strategy::one_for_one;
  root.children = {
    actors::child(repository,
                  [=](caf::actor_system& sys) {
                    (void) keeper; // held as long as the tree
                    return command::spawn_repository(sys, {cfg.database, view});
                  }),
    actors::child(processor,
                  [=](caf::actor_system& sys) {
                    return command::spawn_event_processor(sys, cfg.processor, repository);
                  }),
    actors::child(sync,
                  [=](caf::actor_system& sys) {
                    return command::spawn_platform_sync(sys, cfg.sync, repository, metrics);
                  }),
    actors::supervisor_child(bus),
    actors::child(rest,
                  [=](caf::actor_system& sys) {
                    return command::spawn_rest_controller(
                      sys, cfg.rest, {repository, view, subscriber_status, metrics});
                  }),
  };
  return root;
}

} // namespace

int main(int argc, char** argv) {
  return actors::run_service("command-service", argc, argv, command::read_config, supervision);
}
