#pragma once
// `<service>.rest`: the actor that owns a service's HTTP server. It binds at
// start (a taken port fails the start; the descriptor limit is raised for
// HttpMaxConnections), serves the API's routes on the server's own threads,
// fails when the accept loop ends by itself (its supervisor restarts it), and
// on exit stops the server, letting requests in flight finish. Both services run their REST API through it.
#include "shared/http/debug.hpp"
#include "shared/http/server.hpp"

#include <actors/settings.hpp>
#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace shared::http {

struct rest_config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 0;
  server_options server;
  std::chrono::milliseconds request_timeout{2'000}; // deadline of a request's calls into actors
  debug_access debug = debug_access::loopback; // who sees /debug/supervision (debug.hpp)
};

// HttpPort, HttpMaxConnections, HttpMaxBodyBytes, HttpMaxHeaderCount,
// HttpMaxHeaderBytes, HttpRequestReadTimeout (server.hpp says what each
// limit answers), HttpWorkers, HttpWorkersKept (at most HttpWorkers),
// HttpWorkerIdleTimeout, RequestTimeout and DebugSupervision: the same
// names, grammar and limits in every service.
rest_config read_rest_config(actors::settings& s, std::uint16_t default_port);

// A service's REST API: its routes point into it, so it lives as long as the server.
class rest_api {
public:
  virtual ~rest_api() = default;
  virtual std::vector<route> routes() = 0;
};

// Serves `api`'s routes and the debug routes of `board` (the service's tree).
caf::actor spawn_rest_controller(caf::actor_system& sys, std::string name, rest_config config,
                                 std::shared_ptr<rest_api> api,
                                 std::shared_ptr<metrics::registry> metrics,
                                 std::shared_ptr<const actors::supervision_board> board);

} // namespace shared::http
