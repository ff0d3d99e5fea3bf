#pragma once
// The live picture of a service's supervision tree, drawn from its
// supervisors' observer hook (service_context::observer): which actors run,
// which wait in backoff and how long is left, restarts in the current window
// against the intensity, the last failure, and the events as they happen.
// Written on the supervisors' threads, read from any thread (the debug
// routes). Bounded: one entry per actor and the last `history` events; a
// reader that falls further behind is told how many it missed.
//
//   auto tree = board.tree(clock::now()); // the roots (one per service)
//   auto news = board.wait_after(last_seq, 1s); // events after last_seq, or none on timeout
#include "actors/handle.hpp"
#include "actors/supervisor.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace actors {

enum class child_state {
  running,
  backing_off, // failed; its restart is scheduled
  restarting,  // the backoff is over, the new instance not yet up
  stopped,     // stopped by its supervisor, or exited for good
  gave_up,     // its supervisor gave up on it (intensity exceeded)
};

const char* to_string(child_state state);

struct board_entry {
  std::string name;
  std::string supervisor; // empty for the root
  child_state state = child_state::running;
  unsigned instance = 0;
  std::size_t restarts = 0;         // in the current window of its supervisor
  restart_intensity intensity;      // its supervisor's limit (the root has none)
  std::chrono::milliseconds backoff_left{0}; // while backing_off
  std::string last_failure;                  // empty if it never failed
  std::chrono::system_clock::time_point last_failure_at;
  std::chrono::milliseconds uptime{0};       // of the current instance, while running
  std::optional<std::size_t> held; // messages its stable handle holds for it, if it has one
  std::vector<board_entry> children; // a supervisor's, in start order
};

struct board_event {
  std::uint64_t seq = 0; // from 1, one per event
  std::chrono::system_clock::time_point at;
  supervision_event event;
};

struct board_news {
  std::vector<board_event> events;
  std::uint64_t missed = 0; // events that left the history before they were read
};

class supervision_board {
public:
  using clock = std::chrono::steady_clock;

  explicit supervision_board(std::size_t history = 100);

  void record(const supervision_event& ev, clock::time_point now = clock::now());

  // Reports how many messages `h` holds for its actor (entries named alike).
  void track(const handle& h);

  // The trees, roots first seen first.
  std::vector<board_entry> tree(clock::time_point now = clock::now()) const;

  // Events after `seq`, waiting up to `timeout` for one.
  board_news wait_after(std::uint64_t seq, std::chrono::milliseconds timeout) const;

  std::uint64_t last_seq() const;

  // Tells this board's sequence from another process's (a restarted
  // service counts from 1 again): its creation time in microseconds.
  std::uint64_t epoch() const { return epoch_; }

private:
  struct node {
    std::string supervisor;
    child_state state = child_state::running;
    unsigned instance = 0;
    restart_intensity intensity;
    std::deque<clock::time_point> restarts; // scheduled within the window
    clock::time_point restart_at;
    std::string last_failure;
    std::chrono::system_clock::time_point last_failure_at;
    clock::time_point up_since;
  };

  node& node_of(const std::string& name);
  board_entry draw(const std::string& name, clock::time_point now) const;

  std::size_t history_;
  std::uint64_t epoch_;
  mutable std::mutex mutex_;
  mutable std::condition_variable news_;
  std::map<std::string, node> nodes_;
  std::vector<std::string> order_; // first seen first
  std::map<std::string, std::shared_ptr<const std::atomic<std::size_t>>> held_;
  std::deque<board_event> events_;
  std::uint64_t seq_ = 0;
};

} // namespace actors
