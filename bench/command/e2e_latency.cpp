// End-to-end latency, on the real binaries with the fixture's PostgreSQL and
// RabbitMQ: POST /api/platforms on platform-service (commit + outbox row) ->
// its outbox relay -> exchange `trigger` -> command-service's durable queue ->
// subscriber -> event processor -> repository -> visible in
// GET /api/c/platforms. Creates are sent open-loop at a fixed rate from a few
// threads (one keep-alive connection each); one poller reads
// GET /api/c/platforms every --poll-every ms and notes when each id first
// appears (every id must: visibility through REST), and
// a tap (its own exclusive queue on `trigger`) notes when each event reached
// the bus, which splits the latency into relay and command-service parts.
// Each create carries its own X-Request-Id, which the command service logs
// on the event's `event_applied` line (after the commit): that line's time
// stamp gives the latency at 1 ms resolution, without the poller's spread.
//
// --via-standby starts a second platform-service replica on the same database
// and sends the creates to it: its relay stands by (the first replica's leads),
// so each event also crosses the NOTIFY that wakes the leading relay.
//
// Usage: command_e2e_latency [--rate=500] [--seconds=10] [--senders=4] [--poll-every=50]
//          [--via-standby] [--platform-flag=--OutboxPollInterval=5ms ...] [--command-flag=...]
// Figures and the commands that produced them: RESULTS.md.
#include "bench_support.hpp"
#include "creates.hpp"
#include "service_process.hpp"

#include <child_process.hpp>
#include <shared/amqp/topology.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

using namespace std::chrono_literals;
using namespace command_bench;

namespace {

struct options {
  int rate = 500;
  int seconds = 10;
  int senders = 4;
  // 0: back to back, for tight poll bounds; but each poll encodes every
  // platform, and that load on the two cores lifts every other figure's tail.
  int poll_every_ms = 50;
  bool via_standby = false;
  std::vector<std::string> platform_flags;
  std::vector<std::string> command_flags;
};

options parse(int argc, char** argv) {
  options o;
  auto value = [](const std::string& arg, const std::string& prefix, std::string& out) {
    if (arg.rfind(prefix, 0) != 0)
      return false;
    out = arg.substr(prefix.size());
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    if (value(a, "--rate=", v))
      o.rate = std::stoi(v);
    else if (value(a, "--seconds=", v))
      o.seconds = std::stoi(v);
    else if (value(a, "--senders=", v))
      o.senders = std::stoi(v);
    else if (value(a, "--poll-every=", v))
      o.poll_every_ms = std::stoi(v);
    else if (a == "--via-standby")
      o.via_standby = true;
    else if (value(a, "--platform-flag=", v))
      o.platform_flags.push_back(v);
    else if (value(a, "--command-flag=", v))
      o.command_flags.push_back(v);
    else
      throw std::invalid_argument("unknown argument " + a);
  }
  return o;
}

// When a poll first saw an id: the visibility happened after the previous
// poll started (it did not see it) and before this one returned.
struct sighting {
  clock_type::time_point after;
  clock_type::time_point before;
};

// Reads GET /api/c/platforms every `every` on its own thread.
class visibility_poller {
public:
  visibility_poller(int port, std::chrono::milliseconds every)
    : client_("127.0.0.1", port), every_(every) {
    client_.set_tcp_nodelay(true);
    thread_ = std::thread([this] { run(); });
  }
  ~visibility_poller() {
    stop_ = true;
    thread_.join();
  }

  std::optional<sighting> seen(int id) const {
    std::lock_guard guard{mutex_};
    auto i = seen_.find(id);
    return i == seen_.end() ? std::nullopt : std::optional{i->second};
  }

  std::vector<double> poll_ms() const {
    std::lock_guard guard{mutex_};
    return poll_ms_;
  }

  std::size_t failures() const { return failures_; }

private:
  void run() {
    auto previous_start = clock_type::now();
    while (!stop_) {
      auto start = clock_type::now();
      auto r = client_.Get("/api/c/platforms");
      auto end = clock_type::now();
      if (!r || r->status != 200) {
        ++failures_;
        std::this_thread::sleep_for(10ms);
        continue;
      }
      note(r->body, {previous_start, end});
      {
        std::lock_guard guard{mutex_};
        poll_ms_.push_back(std::chrono::duration<double, std::milli>(end - start).count());
      }
      previous_start = start;
      std::this_thread::sleep_until(start + every_);
    }
  }

  // The body is [{"id":N,"name":...},...]: the ids are scanned, not parsed,
  // to keep the poller's own cost small.
  void note(const std::string& body, sighting when) {
    static const std::string key = "{\"id\":";
    std::lock_guard guard{mutex_};
    for (auto at = body.find(key); at != std::string::npos; at = body.find(key, at + 1)) {
      int id = std::atoi(body.c_str() + at + key.size());
      seen_.try_emplace(id, when);
    }
  }

  httplib::Client client_;
  std::chrono::milliseconds every_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> failures_{0};
  mutable std::mutex mutex_;
  std::unordered_map<int, sighting> seen_;
  std::vector<double> poll_ms_;
  std::thread thread_;
};

// Notes when each event's Id arrived on its own queue bound to `trigger`.
class bus_tap {
public:
  bus_tap() {
    std::promise<void> bound;
    auto ready = bound.get_future();
    thread_ = std::thread([this, &bound] { run(bound); });
    ready.get(); // rethrows a failed connect or declare
  }
  ~bus_tap() {
    stop_ = true;
    thread_.join();
  }

  std::optional<clock_type::time_point> arrived(int id) const {
    std::lock_guard guard{mutex_};
    auto i = arrived_.find(id);
    return i == arrived_.end() ? std::nullopt : std::optional{i->second};
  }

private:
  void run(std::promise<void>& bound) {
    std::optional<shared::amqp::connection> c;
    try {
      c.emplace(command_bench::broker());
      shared::amqp::declare_trigger(*c);
      shared::amqp::queue_options q;
      q.durable = false;
      q.exclusive = true;
      q.auto_delete = true;
      auto queue = c->declare_queue("", q);
      c->bind_queue(queue, "trigger");
      c->qos(1000);
      c->consume(queue);
      bound.set_value();
    } catch (...) {
      return bound.set_exception(std::current_exception());
    }
    static const std::string key = "\"Id\":";
    while (!stop_)
      if (auto d = c->next(50ms)) {
        auto now = clock_type::now();
        c->ack(d->delivery_tag);
        if (auto at = d->body.find(key); at != std::string::npos) {
          std::lock_guard guard{mutex_};
          arrived_.try_emplace(std::atoi(d->body.c_str() + at + key.size()), now);
        }
      }
  }

  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::unordered_map<int, clock_type::time_point> arrived_;
  std::thread thread_;
};

void uptime(const char* when) {
  std::printf("uptime %s: ", when);
  std::fflush(stdout);
  std::system("uptime");
}

// Waits until every created id was seen (or 15 s passed); false if some were not.
bool wait_visible(const visibility_poller& poller, const std::vector<create>& creates) {
  auto until = clock_type::now() + 15s;
  for (auto& c : creates)
    while (c.id != 0 && !poller.seen(c.id))
      if (clock_type::now() > until)
        return false;
      else
        std::this_thread::sleep_for(5ms);
  return true;
}

void report(const visibility_poller& poller, const bus_tap& tap,
            const std::vector<create>& creates, int errors, int seconds,
            const std::vector<std::string>& command_log) {
  auto logged = applied_after_201(creates, command_log, "e2e");
  std::vector<double> upper, lower, post, lag, to_bus, from_bus;
  std::size_t missing = 0;
  for (auto& c : creates) {
    if (c.id == 0)
      continue;
    post.push_back(ms(c.returned - c.sent));
    lag.push_back(ms(c.sent - c.scheduled));
    auto s = poller.seen(c.id);
    if (!s) {
      ++missing;
      continue;
    }
    upper.push_back(ms(s->before - c.returned));
    if (auto on_bus = tap.arrived(c.id)) {
      to_bus.push_back(ms(*on_bus - c.returned));
      from_bus.push_back(ms(s->before - *on_bus));
    }
    lower.push_back(ms(s->after - c.returned)); // negative: visible before the 201 arrived
  }
  auto span = ms(creates.back().sent - creates.front().sent) / 1000;
  std::printf("creates: %zu sent in %.2f s (%.0f/s, goal %d s), %d not 201, %zu never visible\n",
              creates.size(), span, static_cast<double>(creates.size()) / span, seconds, errors,
              missing);
  print_percentiles("201 -> applied (command log, ms stamps)", logged);
  print_percentiles("201 -> visible (upper bound: poll returned)", upper);
  print_percentiles("201 -> visible (lower bound: poll started)", lower);
  print_percentiles("  201 -> on the bus (tap)", to_bus);
  print_percentiles("  on the bus -> visible (upper bound)", from_bus);
  print_percentiles("POST /api/platforms round trip", post);
  print_percentiles("send lag behind the schedule", lag);
  print_percentiles("GET /api/c/platforms (one poll)", poller.poll_ms());
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  uptime("before");
  platform_it::service_options so;
  so.database = "bench_e2e";
  so.extra_flags = {"--LogLevel=warn"};
  so.extra_flags.insert(so.extra_flags.end(), o.platform_flags.begin(), o.platform_flags.end());
  platform_it::service_process platform(so);
  if (!platform.wait_ready())
    return std::cerr << "platform-service not ready\n", 1;
  std::optional<platform_it::service_process> standby;
  if (o.via_standby) { // started once the first one's relay holds the lock
    so.fresh_database = false;
    standby.emplace(so);
    if (!standby->wait_ready())
      return std::cerr << "standby platform-service not ready\n", 1;
  }
  int create_port = standby ? standby->http_port() : platform.http_port();

  int command_port = platform_it::free_port();
  auto command_flags = o.command_flags;
  command_flags.push_back("--GrpcPlatform=http://127.0.0.1:" + std::to_string(platform.grpc_port()));
  command_flags.push_back("--LogLevel=info"); // its event_applied lines time each event
  support::child_process command{
    command_bench::command_service_args(command_port, "command-e2e-bench", command_flags)};
  httplib::Client command_cli{"127.0.0.1", command_port};
  if (!command_bench::wait_ready(command_cli, 20s))
    return std::cerr << "command-service not ready\n", 1;

  visibility_poller poller{command_port, std::chrono::milliseconds(o.poll_every_ms)};
  bus_tap tap;
  std::atomic<int> errors{0};
  auto period = std::chrono::duration_cast<clock_type::duration>(1s) / o.rate;
  // One second of warm-up (connections, caches, the relay's first rounds), not reported.
  auto warm = send_creates(create_port, o.rate, period, o.senders, "warm", errors);
  if (!wait_visible(poller, warm))
    std::cerr << "warm-up: not every platform became visible\n";
  errors = 0;
  auto creates = send_creates(create_port, o.rate * o.seconds, period, o.senders, "e2e",
                              errors);
  if (!wait_visible(poller, creates))
    std::cerr << "not every platform became visible within 15 s\n";
  uptime("after");
  report(poller, tap, creates, errors, o.seconds, command.lines());
  std::printf("poller failures: %zu\n", poller.failures());
  command.signal(SIGTERM);
  command.wait_exit(15s);
  bool stopped = (!standby || standby->stop() == 0) && platform.stop() == 0;
  return stopped ? 0 : 1;
}
