#pragma once
// What the relay tells about itself, as plain logic (unit-tested):
// - relay_leadership: the relay lock, once held, stays held for the session's
//   life; until then the relay stands by and says so once.
// - backlog_tracker: the events found waiting when the relay took the lead (a
//   broker outage, a crash), counted while they go out, told once drained.
#include <chrono>
#include <cstdint>
#include <optional>

namespace platform {

class relay_leadership {
public:
  enum class change { none, took_lead, standing_by };

  // The outcome of the latest try for the lock (only tried while not leading).
  change observe(bool held);
  bool leading() const { return leading_; }
  // Tried and found another relay holding the lock.
  bool standing_by() const { return standing_by_ && !leading_; }

private:
  bool leading_ = false;
  bool standing_by_ = false; // told once
};

class backlog_tracker {
public:
  using clock = std::chrono::steady_clock;

  struct drained {
    std::size_t published;
    std::chrono::milliseconds took;
  };

  void found(std::int64_t events, clock::time_point now);
  void published(std::size_t events) { published_ += events; }
  // Once, when nothing is in flight any more after a backlog was found.
  std::optional<drained> idle(clock::time_point now);

private:
  std::int64_t found_ = 0;
  std::size_t published_ = 0;
  clock::time_point since_;
};

} // namespace platform
