// The server both services run (shared::http::server through its listener,
// with the operational routes), alone on a loopback port and configured by
// the same settings (read_rest_config), so wrk measures the server and not a
// service behind it. Serves until SIGINT or SIGTERM.
//   build/bench/http/http_server_bench --HttpPort=18080 &
//   wrk -t2 -c64 -d10s --latency http://127.0.0.1:18080/healthz
#include <shared/http/listener.hpp>
#include <shared/http/operational.hpp>
#include <shared/http/rest_controller_actor.hpp>

#include <actors/settings.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  using namespace shared::http;
  actors::settings s{argc, argv};
  auto config = read_rest_config(s, 18080);
  if (s.help_requested()) {
    std::cout << s.usage(argv[0]);
    return 0;
  }
  s.finish();
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr); // before the server's threads start
  auto metrics = std::make_shared<shared::metrics::registry>();
  auto routes = operational_routes([] { return std::vector<readiness_check>{}; }, metrics);
  listener l{std::make_unique<server>(config.server, *metrics, "bench.http", routes), "127.0.0.1",
             config.port, caf::actor_addr{}};
  std::cout << "listening on 127.0.0.1:" << l.port() << std::endl;
  int signal = 0;
  sigwait(&stop, &signal);
}
