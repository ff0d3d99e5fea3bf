#include "shared/http/rest_controller_actor.hpp"

#include "shared/http/listener.hpp"

#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <algorithm>
#include <stdexcept>

#include <sys/resource.h>

namespace shared::http {

namespace {

// Each connection is a descriptor: the soft limit (often 1024) is raised
// toward the hard one so that HttpMaxConnections, not EMFILE at accept, is
// what turns connections away.
void raise_descriptor_limit(std::size_t connections, const std::string& actor) {
  constexpr rlim_t reserve = 256; // database, broker, gRPC, files
  rlimit l{};
  auto want = static_cast<rlim_t>(connections) + reserve;
  if (::getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur >= want)
    return;
  l.rlim_cur = std::min(want, l.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &l);
  if (l.rlim_cur < want)
    actors::log::warn(actor, "descriptor_limit_low",
                      {{"limit", static_cast<std::uint64_t>(l.rlim_cur)},
                       {"needed", static_cast<std::uint64_t>(want)}});
}

struct rest_controller_state {
  std::string name;
  std::shared_ptr<rest_api> api;
  std::shared_ptr<metrics::registry> metrics;
  std::unique_ptr<listener> server; // declared last: destroyed first, stops the routes
};

caf::behavior rest_controller(caf::stateful_actor<rest_controller_state>* self, std::string name,
                              rest_config config, std::shared_ptr<rest_api> api,
                              std::shared_ptr<metrics::registry> metrics,
                              std::shared_ptr<const actors::supervision_board> board) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.name = std::move(name);
  st.api = std::move(api);
  st.metrics = std::move(metrics);
  raise_descriptor_limit(config.server.max_connections, st.name);
  auto routes = st.api->routes();
  for (auto& r : debug_routes(std::move(board), config.debug))
    routes.push_back(std::move(r));
  auto svr = std::make_unique<server>(config.server, *st.metrics, st.name, routes);
  st.server = std::make_unique<listener>(std::move(svr), config.host, config.port, self->address());
  actors::log::info(st.name, "listening", {{"host", config.host}, {"port", config.port}});
  return {
    [](accept_loop_ended_atom) -> caf::result<void> {
      throw std::runtime_error("HTTP accept loop ended");
    },
  };
}

} // namespace

rest_config read_rest_config(actors::settings& s, std::uint16_t default_port) {
  rest_config c;
  c.port = s.port("HttpPort", default_port, "REST API listen port");
  auto& o = c.server;
  auto size = [&s](const char* name, std::size_t fallback, std::int64_t min, std::int64_t max,
                   const char* help) {
    return static_cast<std::size_t>(
      s.integer(name, static_cast<std::int64_t>(fallback), min, max, help));
  };
  auto positive = [&s](const char* name, std::chrono::milliseconds fallback, const char* help) {
    auto d = s.duration(name, fallback, help);
    if (d.count() <= 0)
      s.reject(name, std::to_string(d.count()) + "ms", "must be positive");
    return d;
  };
  o.max_connections = size("HttpMaxConnections", o.max_connections, 1, 65'536,
                           "client connections open at once, idle ones included; past it 503 "
                           "with Retry-After");
  o.max_body = size("HttpMaxBodyBytes", o.max_body, 1, 64 * 1024 * 1024,
                    "request body bytes on the wire, Content-Length or chunked; past it 413 "
                    "(compressed bodies get 415)");
  o.max_header_count = size("HttpMaxHeaderCount", o.max_header_count, 1, 10'000,
                            "header fields of a request; past it 431");
  o.max_header_bytes = size("HttpMaxHeaderBytes", o.max_header_bytes, 1'024, 1024 * 1024,
                            "bytes of a request's header fields together; past it 431");
  o.request_read_timeout = positive("HttpRequestReadTimeout", o.request_read_timeout,
                                    "deadline for a whole request to arrive, from its first "
                                    "byte; then 408 and the connection closed");
  o.workers = size("HttpWorkers", o.workers, 1, 65'536,
                   "requests answered at once (worker threads); past it requests wait in "
                   "arrival order");
  o.workers_kept = size("HttpWorkersKept", std::min(o.workers_kept, o.workers), 0, 65'536,
                        "request workers kept when idle (default: the core count)");
  if (o.workers_kept > o.workers)
    s.reject("HttpWorkersKept", std::to_string(o.workers_kept),
             std::string{"must not exceed HttpWorkers ("}.append(std::to_string(o.workers))
               .append(")"));
  o.worker_idle_timeout = positive("HttpWorkerIdleTimeout", o.worker_idle_timeout,
                                   "how long a request worker past HttpWorkersKept stays idle "
                                   "before it ends");
  c.request_timeout = s.duration("RequestTimeout", c.request_timeout,
                                 "deadline of a request's work (database, store); then 503");
  auto debug = s.choice("DebugSupervision", "loopback", {"off", "loopback", "on"},
                        "who may read /debug/supervision and its event stream: nobody, "
                        "loopback clients, anyone");
  c.debug = debug == "off"  ? debug_access::off
            : debug == "on" ? debug_access::on
                            : debug_access::loopback;
  return c;
}

caf::actor spawn_rest_controller(caf::actor_system& sys, std::string name, rest_config config,
                                 std::shared_ptr<rest_api> api,
                                 std::shared_ptr<metrics::registry> metrics,
                                 std::shared_ptr<const actors::supervision_board> board) {
  return sys.spawn<caf::detached>(rest_controller, std::move(name), std::move(config),
                                  std::move(api), std::move(metrics), std::move(board));
}

} // namespace shared::http
