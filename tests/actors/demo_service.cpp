// A small service on the real runtime, run as a process by service_test.cpp:
// its child fails its first `Failures` starts (then works), or, with WorkMs,
// does that much work at start so that a SIGTERM arrives with work in flight.
#include <actors/log.hpp>
#include <actors/service.hpp>

#include <atomic>
#include <thread>

using namespace std::chrono_literals;
using work_atom = caf::atom_constant<caf::atom("work")>;

namespace {

struct demo_config {
  std::int64_t failures;
  std::int64_t work_ms;
  std::int64_t max_restarts;
};

demo_config read_config(actors::settings& s) {
  return {s.integer("Failures", 0, 0, 1'000'000, "starts that fail before one works"),
          s.integer("WorkMs", 0, 0, 60'000, "work done at start, in ms"),
          s.integer("MaxRestarts", 5, 0, 100, "restart intensity within 30 s")};
}

std::atomic<std::int64_t> starts{0};

caf::behavior worker(caf::event_based_actor* self, demo_config cfg) {
  actors::fail_on_exception(self);
  if (++starts <= cfg.failures)
    throw std::runtime_error("simulated failure " + std::to_string(starts.load()));
  if (cfg.work_ms > 0)
    self->send(self, work_atom::value);
  return {
    [=](work_atom) {
      actors::log::info("demo.worker", "work_started", {{"work_ms", cfg.work_ms}});
      std::this_thread::sleep_for(std::chrono::milliseconds{cfg.work_ms});
      actors::log::info("demo.worker", "work_done");
    },
  };
}

actors::supervisor_spec supervision(actors::service_context& ctx, const demo_config& cfg) {
  actors::supervisor_spec root;
  root.name = "demo.supervisor";
  root.intensity = {static_cast<std::size_t>(cfg.max_restarts), 30s};
  root.backoff = {100ms, 2s, 0.1};
  auto h = ctx.make_handle("demo.worker");
  root.children.push_back(
    actors::child(h, [cfg](caf::actor_system& sys) { return sys.spawn(worker, cfg); }));
  return root;
}

} // namespace

int main(int argc, char** argv) {
  return actors::run_service("demo-service", argc, argv, read_config, supervision);
}
