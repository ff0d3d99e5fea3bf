// platform-service: the whole supervision tree is built here.
//
// platform.supervisor (one_for_one)
// ├── platform.repository (one_for_one)
// │   ├── platform.migrations        applies the schema once, then exits (transient)
// │   └── platform.repository.1 .. N one database session each
// ├── platform.messaging (one_for_one, never gives up on a broker that is away)
// │   ├── platform.outbox_relay      publishes committed events with confirms
// │   ├── platform.outbox_listener   hears each commit (any replica), wakes the relay
// │   └── platform.command_client    the course's synchronous POST (optional)
// ├── platform.grpc                  GrpcPlatform, health, reflection
// └── platform.rest                  REST, healthz, readyz, metrics
//
// One POST /api/platforms: platform.rest (rest/platforms_api) -> a
// platform.repository.N (store/platform_store: platform + outbox row +
// pg_notify, one transaction) -> 201; on commit PostgreSQL notifies
// platform.outbox_listener -> platform.outbox_relay publishes the event and
// marks it once the broker confirmed it.
#include "src/client/command_client_actor.hpp"
#include "src/config.hpp"
#include "src/grpc/grpc_actor.hpp"
#include "src/outbox/outbox_listener_actor.hpp"
#include "src/outbox/relay_actor.hpp"
#include "src/repository/repository_actor.hpp"
#include "src/rest/platforms_api.hpp"
#include "src/store/migrations_actor.hpp"

#include <actors/service.hpp>
#include <shared/amqp/supervision.hpp>
#include <shared/metrics/process.hpp>
#include <shared/metrics/supervision.hpp>

#include <memory>

using namespace std::chrono_literals;

namespace {

using platform::config;

actors::supervisor_spec supervision(actors::service_context& ctx, const config& cfg) {
  auto metrics = shared::metrics::service_registry("platform-service");
  auto observer = ctx.observer(shared::metrics::restart_counter(metrics));
  auto schema = std::make_shared<platform::schema_status>();

  // A database outage lasts as long as it lasts: members retry every <= 2 s
  // (at most ~35 restarts a minute). A request waits 250 ms for a member that
  // is down, then tries the next (repository_client); 503 when none answers.
  auto repository =
    actors::one_for_one("platform.repository", {60, 60s}, {100ms, 2s, 0.2}, observer);
  actors::child_spec migrations;
  migrations.name = "platform.migrations";
  migrations.start = [db = cfg.repository.database, schema](caf::actor_system& sys) {
    return platform::spawn_migrations(sys, db, schema);
  };
  migrations.restart = actors::restart_policy::transient; // done once it exits normally
  repository.children.push_back(std::move(migrations));
  auto cache = std::make_shared<platform::platform_cache>(cfg.repository.cache_size,
                                                        cfg.repository.cache_bytes);
  std::vector<actors::handle> pool;
  for (unsigned i = 1; i <= cfg.repository.pool_size; ++i) {
    auto h = ctx.make_handle("platform.repository." + std::to_string(i), {250ms, 10'000});
    pool.push_back(h);
    repository.children.push_back(actors::child(h, [c = cfg.repository, i, cache](auto& sys) {
      return platform::spawn_repository(sys, c, i, cache);
    }));
  }

  // The relay reconnects as the command service's subscriber does.
  auto messaging = actors::one_for_one("platform.messaging", shared::amqp::reconnect_intensity,
                                       shared::amqp::reconnect_backoff, observer);
  auto relay = ctx.make_handle("platform.outbox_relay");
  messaging.children.push_back(actors::child(relay, [c = cfg.relay, metrics, schema](auto& sys) {
    return platform::spawn_relay(sys, c, metrics, schema);
  }));
  auto listener = ctx.make_handle("platform.outbox_listener");
  messaging.children.push_back(
    actors::child(listener, [db = cfg.relay.database, relay](caf::actor_system& sys) {
      return platform::spawn_outbox_listener(sys, db, relay);
    }));
  actors::handle client;
  if (cfg.command_client.enabled) {
    client = ctx.make_handle("platform.command_client");
    messaging.children.push_back(actors::child(client, [c = cfg.command_client](auto& sys) {
      return platform::spawn_command_client(sys, c);
    }));
  }

  auto grpc = ctx.make_handle("platform.grpc");
  auto rest = ctx.make_handle("platform.rest");
  platform::repository_client repository_client{ctx.system(), pool, cfg.rest.request_timeout,
                                                cache};
  auto api = std::make_shared<platform::platforms_api>(
    platform::platforms_api_deps{repository_client, schema, metrics, client});
  auto grpc_repository = repository_client;
  grpc_repository.set_deadline(cfg.grpc.request_timeout);

  auto root = actors::one_for_one("platform.supervisor", {3, 60s}, {500ms, 5s, 0.2}, observer);
  root.children = {
    actors::supervisor_child(repository),
    actors::supervisor_child(messaging),
    actors::child(grpc, [c = cfg.grpc, grpc_repository](caf::actor_system& sys) {
      return platform::spawn_grpc(sys, c, grpc_repository);
    }),
    actors::child(rest, [c = cfg.rest, api, metrics, board = ctx.board()](auto& sys) {
      return shared::http::spawn_rest_controller(sys, "platform.rest", c, api, metrics, board);
    }),
  };
  return root;
}

} // namespace

int main(int argc, char** argv) {
  return actors::run_service("platform-service", argc, argv, platform::read_config, supervision);
}
