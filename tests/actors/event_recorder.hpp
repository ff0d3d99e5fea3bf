#pragma once
// Collects supervision events (from the supervisor's thread) and lets a test
// wait, with a deadline, until some event has happened: no sleeps. The
// observer shares the recorded state, so a supervisor that outlives the
// recorder (it stops after the test body) still writes to live memory.
#include <actors/supervisor.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace test {

class event_recorder {
public:
  actors::supervision_observer observer() {
    return [state = state_](const actors::supervision_event& ev) {
      std::lock_guard guard{state->mutex};
      state->events.push_back(ev);
      state->cv.notify_all();
    };
  }

  // Waits until `count` events of `kind` for `child` were seen; false on timeout.
  bool wait_for(actors::supervision_event::kind_type kind, const std::string& child,
                std::size_t count = 1,
                std::chrono::milliseconds deadline = std::chrono::seconds{10}) {
    std::unique_lock lock{state_->mutex};
    return state_->cv.wait_for(lock, deadline, [&] { return count_locked(kind, child) >= count; });
  }

  std::size_t count(actors::supervision_event::kind_type kind, const std::string& child) {
    std::lock_guard guard{state_->mutex};
    return count_locked(kind, child);
  }

  std::vector<actors::supervision_event> events() {
    std::lock_guard guard{state_->mutex};
    return state_->events;
  }

private:
  std::size_t count_locked(actors::supervision_event::kind_type kind, const std::string& child) {
    std::size_t n = 0;
    for (auto& ev : state_->events)
      if (ev.kind == kind && ev.child == child)
        ++n;
    return n;
  }

  struct state {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<actors::supervision_event> events;
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

} // namespace test
