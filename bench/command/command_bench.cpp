// Command Service throughput, on the real binary with the fixture's RabbitMQ:
//   1. events consumed and committed per second (in-memory store): N events
//      are queued while the service is stopped, then it starts and drains them;
//      timed from its "consuming" log line to the last commit in /metrics.
//   2. GET /api/c/platforms/{id}/commands with wrk at 64 connections.
// Usage: command_bench [events=50000] [wrk_seconds=10]   (figures: RESULTS.md)
#include "bench_support.hpp"
#include "service_process.hpp"

#include <child_process.hpp>
#include <shared/amqp/connection.hpp>
#include <shared/amqp/topology.hpp>

#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <thread>

using namespace std::chrono_literals;
namespace amqp = shared::amqp;
using clock_type = std::chrono::steady_clock;
using command_bench::broker;

namespace {

// Publishes `n` Platform_Published events, confirms awaited per 1000.
void publish_events(int first_id, int n) {
  amqp::connection c{broker()};
  amqp::declare_trigger(c);
  c.enable_confirms();
  for (int i = 0; i < n; ++i) {
    auto id = first_id + i;
    c.publish("trigger", "",
              R"({"Id":)" + std::to_string(id) + R"(,"Name":"p)" + std::to_string(id)
                + R"(","Event":"Platform_Published"})");
    if ((i + 1) % 1000 == 0 || i + 1 == n)
      while (c.unconfirmed() > 0)
        for (auto& [seq, status] : c.wait_for_confirms(10s))
          if (status != amqp::confirm_status::acked)
            throw std::runtime_error("publish " + std::to_string(seq) + " " + to_string(status));
  }
}

double applied(httplib::Client& cli) {
  auto r = cli.Get("/metrics");
  if (!r)
    return -1;
  std::smatch m;
  static const std::regex line{R"(command_events_total\{outcome="applied"\} ([0-9.e+]+))"};
  return std::regex_search(r->body, m, line) ? std::stod(m[1]) : 0;
}

std::vector<std::string> service_args(int port) {
  return command_bench::command_service_args(port, "command-bench", {"--GrpcPlatform=127.0.0.1:1"});
}

bool wait_ready(httplib::Client& cli) {
  return command_bench::wait_ready(cli, 20s);
}

} // namespace

int main(int argc, char** argv) {
  int events = argc > 1 ? std::stoi(argv[1]) : 50'000;
  int wrk_seconds = argc > 2 ? std::stoi(argv[2]) : 10;
  int port = platform_it::free_port();
  httplib::Client cli{"127.0.0.1", port};

  // Declare the service's queue (a first start), then queue the events while it is down.
  std::optional<support::child_process> svc;
  svc.emplace(service_args(port));
  if (!wait_ready(cli))
    return std::cerr << "command-service not ready\n", 1;
  svc->signal(SIGTERM);
  svc->wait_exit(15s);
  publish_events(1, events);

  svc.emplace(service_args(port));
  if (!wait_ready(cli))
    return std::cerr << "command-service not ready\n", 1;
  auto start = clock_type::now(); // within ~20 ms of its "consuming"
  while (applied(cli) < events && clock_type::now() - start < 120s)
    std::this_thread::sleep_for(5ms);
  auto seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("events: %d consumed and committed in %.2f s = %.0f events/s\n", events, seconds,
              events / seconds);

  // REST: one platform with 10 commands.
  for (int i = 0; i < 10; ++i)
    cli.Post("/api/c/platforms/1/commands",
             R"({"howTo":"step )" + std::to_string(i) + R"(","commandLine":"run )"
               + std::to_string(i) + R"("})",
             "application/json");
  auto wrk = "wrk -t2 -c64 -d" + std::to_string(wrk_seconds) + "s http://127.0.0.1:"
             + std::to_string(port) + "/api/c/platforms/1/commands";
  std::printf("%s\n", wrk.c_str());
  std::fflush(stdout);
  auto rc = std::system(wrk.c_str());
  svc->signal(SIGTERM);
  svc->wait_exit(15s);
  return rc == 0 ? 0 : 1;
}
