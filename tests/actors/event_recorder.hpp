#pragma once
// Collects supervision events (from the supervisor's thread) and lets a test
// wait, with a deadline, until some event has happened: no sleeps.
#include <actors/supervisor.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace test {

class event_recorder {
public:
  actors::supervision_observer observer() {
    return [this](const actors::supervision_event& ev) {
      std::lock_guard guard{mutex_};
      events_.push_back(ev);
      cv_.notify_all();
    };
  }

  // Waits until `count` events of `kind` for `child` were seen; false on timeout.
  bool wait_for(actors::supervision_event::kind_type kind, const std::string& child,
                std::size_t count = 1,
                std::chrono::milliseconds deadline = std::chrono::seconds{10}) {
    std::unique_lock lock{mutex_};
    return cv_.wait_for(lock, deadline, [&] { return count_locked(kind, child) >= count; });
  }

  std::size_t count(actors::supervision_event::kind_type kind, const std::string& child) {
    std::lock_guard guard{mutex_};
    return count_locked(kind, child);
  }

  std::vector<actors::supervision_event> events() {
    std::lock_guard guard{mutex_};
    return events_;
  }

private:
  std::size_t count_locked(actors::supervision_event::kind_type kind, const std::string& child) {
    std::size_t n = 0;
    for (auto& ev : events_)
      if (ev.kind == kind && ev.child == child)
        ++n;
    return n;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<actors::supervision_event> events_;
};

} // namespace test
