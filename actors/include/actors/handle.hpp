#pragma once
// Stable addressing: a handle names a service actor and keeps working across
// its restarts. Behind it is a small "front" actor that delegates each message
// to the current child (which answers the caller directly). While the child is
// down, the front holds messages until the next child is served or until
// `max_wait`, then answers `child_unavailable`; it never drops one silently.
#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace actors {

struct handle_options {
  std::chrono::milliseconds max_wait{5'000}; // how long a message waits for a restart
  std::size_t max_pending = 10'000;          // beyond this, `overloaded` at once
};

class handle {
public:
  using counter = std::shared_ptr<const std::atomic<std::size_t>>;

  handle() = default;
  handle(std::string name, caf::actor front, counter held = {})
    : name_(std::move(name)), front_(std::move(front)), held_(std::move(held)) {}

  const std::string& name() const { return name_; }

  // The front, for `send`/`request`; stays the same across restarts.
  const caf::actor& actor() const { return front_; }

  // The front under a typed interface (unchecked: the child must implement it).
  template <class Typed>
  Typed as() const {
    return caf::actor_cast<Typed>(front_);
  }

  // Messages the front holds while the child is down (read from any thread).
  const counter& held() const { return held_; }

  explicit operator bool() const { return static_cast<bool>(front_); }

private:
  std::string name_;
  caf::actor front_;
  counter held_;
};

handle make_handle(caf::actor_system& sys, std::string name, handle_options options = {});

// Called by the supervisor: `child` now serves `h` (messages waiting are delivered).
void serve(const handle& h, const caf::actor& child);

// Called by the supervisor when it stops a child for good: waiting and new
// messages get `shutting_down` until a child is served again.
void close(const handle& h);

} // namespace actors
