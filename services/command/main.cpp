// command-service: the whole supervision tree is built here.
//
// command.supervisor (one_for_one: siblings reach each other through stable
// handles, so one restarting does not disturb the others)
//   command.store            (supervisor: a database outage restarts only this)
//     command.repository     the store's only session; reads via the read model
//   command.event_processor  bus event -> store, reports the outcome
//   command.platform_sync    gRPC pull of all platforms: at start, periodically, on request
//   command.bus              (supervisor: a broker outage restarts only this)
//     command.subscriber     durable queue, acks after commit, dead-letters poison
//   command.rest             /api/c/..., healthz, readyz, metrics
#include "config.hpp"
#include "events/event_processor_actor.hpp"
#include "events/subscriber_actor.hpp"
#include "rest/commands_api.hpp"
#include "store/command_store.hpp"
#include "store/repository_actor.hpp"
#include "sync/platform_sync_actor.hpp"

#include <actors/service.hpp>
#include <shared/amqp/supervision.hpp>
#include <shared/http/rest_controller_actor.hpp>
#include <shared/metrics/process.hpp>
#include <shared/metrics/supervision.hpp>

namespace {

using namespace std::chrono_literals;

actors::supervisor_spec supervision(actors::service_context& ctx, const command::config& cfg) {
  auto metrics = shared::metrics::service_registry("command-service");
  auto observer = ctx.observer(shared::metrics::restart_counter(metrics));
  auto board = ctx.board();
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
  auto api = std::make_shared<command::commands_api>(
    ctx.system(), command::commands_api_deps{repository, view, subscriber_status, metrics},
    cfg.rest.request_timeout);

  // The subscriber reconnects as the platform service's relay does.
  auto bus = actors::one_for_one("command.bus", shared::amqp::reconnect_intensity,
                                 shared::amqp::reconnect_backoff, observer);
  bus.children = {actors::child(subscriber, [=](caf::actor_system& sys) {
    return command::spawn_subscriber(sys, cfg.subscriber, processor, sync, subscriber_status,
                                     metrics);
  })};

  // As the platform service's repository: a database outage lasts as long as
  // it lasts, retried every <= 2 s (at most ~35 restarts a minute).
  auto store = actors::one_for_one("command.store", {60, 60s}, {100ms, 2s, 0.2}, observer);
  store.children = {actors::child(repository, [=](caf::actor_system& sys) {
    (void) keeper; // held as long as the tree
    return command::spawn_repository(sys, cfg.database, view);
  })};

  auto root = actors::one_for_one("command.supervisor", {3, 60s}, {500ms, 5s, 0.2}, observer);
  root.children = {
    actors::supervisor_child(store),
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
                    return shared::http::spawn_rest_controller(sys, "command.rest", cfg.rest,
                                                               api, metrics, board);
                  }),
  };
  return root;
}

} // namespace

int main(int argc, char** argv) {
  return actors::run_service("command-service", argc, argv, command::read_config, supervision);
}
