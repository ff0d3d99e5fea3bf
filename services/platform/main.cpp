// platform-service: the whole supervision tree is built here.
//
// platform.supervisor (one_for_one)
// ├── platform.repository (one_for_one): platform.repository.1 .. N, one DB session each
// ├── platform.messaging (one_for_one, never gives up on a broker that is away)
// │   ├── platform.outbox_relay      publishes committed events with confirms
// │   ├── platform.outbox_listener   wakes the relay for commits on other replicas
// │   └── platform.command_client    the course's synchronous POST (optional)
// ├── platform.grpc                  GrpcPlatform, health, reflection
// └── platform.http                  REST, healthz, readyz, metrics
#include "src/client/command_client_actor.hpp"
#include "src/config.hpp"
#include "src/grpc/grpc_actor.hpp"
#include "src/http/http_actor.hpp"
#include "src/outbox/outbox_listener.hpp"
#include "src/outbox/relay_actor.hpp"
#include "src/repository/repository_actor.hpp"

#include <actors/service.hpp>

#include <memory>

using namespace std::chrono_literals;

namespace {

using platform::config;

actors::supervisor_spec supervisor(std::string name, actors::restart_intensity intensity,
                                   actors::backoff_policy backoff) {
  actors::supervisor_spec s;
  s.name = std::move(name);
  s.strategy = actors::strategy::one_for_one;
  s.intensity = intensity;
  s.backoff = backoff;
  return s;
}

// Restarts of every actor, read when /metrics is scraped.
void expose_restarts(shared::metrics::registry& metrics) {
  metrics.collect("actor_restarts_total", "Restarts of each supervised actor", "counter",
                  {"actor"}, [] {
                    std::vector<std::pair<shared::metrics::label_values, double>> out;
                    for (auto& [actor, n] : actors::restart_counts())
                      out.push_back({{actor}, static_cast<double>(n)});
                    return out;
                  });
}

actors::supervisor_spec supervision(actors::service_context& ctx, const config& cfg) {
  auto metrics = std::make_shared<shared::metrics::registry>();
  expose_restarts(*metrics);

  // A database outage lasts as long as it lasts: members retry every <= 2 s
  // (at most ~35 restarts a minute). A request waits 250 ms for a member that
  // is down, then tries the next (repository_client); 503 when none answers.
  auto repository = supervisor("platform.repository", {60, 60s}, {100ms, 2s, 0.2});
  auto cache = std::make_shared<platform::platform_cache>(cfg.repository.cache_size);
  std::vector<actors::handle> pool;
  for (unsigned i = 1; i <= cfg.repository.pool_size; ++i) {
    auto h = ctx.make_handle("platform.repository." + std::to_string(i), {250ms, 10'000});
    pool.push_back(h);
    auto start = [c = cfg.repository, i, cache](caf::actor_system& sys) {
      return platform::spawn_repository(sys, c, i, cache);
    };
    repository.children.push_back(actors::child(h, start));
  }

  // Same for the broker: backoff up to 5 s stays far below 100 restarts a minute.
  auto messaging = supervisor("platform.messaging", {100, 60s}, {200ms, 5s, 0.2});
  auto relay = ctx.make_handle("platform.outbox_relay");
  auto doorbell = std::make_shared<platform::relay_doorbell>();
  messaging.children.push_back(
    actors::child(relay, [c = cfg.relay, metrics, doorbell](caf::actor_system& sys) {
      return platform::spawn_relay(sys, c, metrics, doorbell);
    }));
  auto listener = ctx.make_handle("platform.outbox_listener");
  messaging.children.push_back(
    actors::child(listener, [db = cfg.relay.database, doorbell](caf::actor_system& sys) {
      return platform::spawn_outbox_listener(sys, db, doorbell);
    }));
  actors::handle client;
  if (cfg.command_client.enabled) {
    client = ctx.make_handle("platform.command_client");
    messaging.children.push_back(actors::child(client, [c = cfg.command_client](caf::actor_system& sys) {
      return platform::spawn_command_client(sys, c);
    }));
  }
  // After each create: the relay publishes its event now, and the command
  // service hears of it over HTTP too (the course's coupled call) when enabled.
  auto created = [doorbell, client](const platform::platform_record& p,
                                    const std::string& request_id) {
    doorbell->ring();
    if (client)
      caf::anon_send(client.actor(), platform::notify_atom::value, p, request_id);
  };

  auto grpc = ctx.make_handle("platform.grpc");
  auto http = ctx.make_handle("platform.http");
  platform::repository_client repository_client{ctx.system(), pool, cfg.http.request_timeout,
                                                cache};
  auto controller = std::make_shared<platform::platforms_controller>(repository_client, metrics,
                                                                     created);
  auto grpc_repository = repository_client;
  grpc_repository.set_deadline(cfg.grpc.request_timeout);

  auto root = supervisor("platform.supervisor", {3, 60s}, {500ms, 5s, 0.2});
  root.children = {
    actors::supervisor_child(repository),
    actors::supervisor_child(messaging),
    actors::child(grpc, [c = cfg.grpc, grpc_repository](caf::actor_system& sys) {
      return platform::spawn_grpc(sys, c, grpc_repository);
    }),
    actors::child(http, [c = cfg.http, controller, metrics](caf::actor_system& sys) {
      return platform::spawn_http(sys, c, controller, metrics);
    }),
  };
  return root;
}

} // namespace

int main(int argc, char** argv) {
  return actors::run_service("platform-service", argc, argv, platform::read_config, supervision);
}
