// Round-trip cost of the bridge from a non-actor thread (an HTTP or gRPC
// handler thread) into an actor: actors::call through a stable handle, against
// a raw scoped_actor request to the actor itself (the handle's extra hop).
#include <actors/bridge.hpp>
#include <actors/supervisor.hpp>

#include <benchmark/benchmark.h>
#include <caf/all.hpp>

#include <optional>

using namespace std::chrono_literals;

namespace {

caf::behavior adder(caf::event_based_actor*) {
  return {[](int x) { return x + 1; }};
}

struct fixture {
  fixture() : sys(cfg) {
    target = sys.spawn(adder);
    front = actors::make_handle(sys, "bench.adder");
    actors::serve(front, target);
  }
  ~fixture() {
    caf::anon_send_exit(front.actor(), caf::exit_reason::user_shutdown);
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::actor target;
  actors::handle front;
};

std::optional<fixture> world;

void bridge_call_through_handle(benchmark::State& state) {
  int i = 0;
  for (auto _ : state) {
    auto r = actors::call<int>(world->sys, world->front, 1s, i);
    if (!r || *r != i + 1)
      state.SkipWithError("call failed");
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

void raw_scoped_actor_request(benchmark::State& state) {
  int i = 0;
  for (auto _ : state) {
    caf::scoped_actor self{world->sys};
    bool ok = false;
    self->request(world->target, 1s, i).receive([&](int r) { ok = r == i + 1; },
                                                [&](caf::error&) {});
    if (!ok)
      state.SkipWithError("request failed");
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bridge_call_through_handle)->Threads(1)->Threads(4)->UseRealTime();
BENCHMARK(raw_scoped_actor_request)->Threads(1)->Threads(4)->UseRealTime();

} // namespace

int main(int argc, char** argv) {
  world.emplace();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  world.reset();
}
