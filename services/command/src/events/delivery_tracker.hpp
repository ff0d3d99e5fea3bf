#pragma once
// The subscriber's deliveries in flight: handed to the event processor and
// not yet settled (acked or rejected), by delivery tag, with when each was
// sent and the request id it came with (the AMQP correlation_id). The oldest
// one tells whether the processor is too slow: past `timeout`, the subscriber
// fails and reconnects, and the unsettled deliveries come back redelivered.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace command {

class delivery_tracker {
public:
  using clock = std::chrono::steady_clock;

  explicit delivery_tracker(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // A delivery handed to the processor `at`.
  void track(std::uint64_t delivery_tag, std::string request_id,
             clock::time_point at = clock::now());

  // Stops tracking the delivery and returns its request id ("" when it came
  // without one); nullopt when it is not in flight.
  std::optional<std::string> settle(std::uint64_t delivery_tag);

  // Why the oldest delivery is late, e.g. "delivery 7 (request_id r-1) not
  // processed within 5000ms"; nullopt while none has waited beyond the timeout.
  std::optional<std::string> overdue(clock::time_point now = clock::now()) const;

  std::size_t size() const { return in_flight_.size(); }
  bool empty() const { return in_flight_.empty(); }

private:
  struct flight {
    clock::time_point sent;
    std::string request_id;
  };

  std::chrono::milliseconds timeout_;
  std::map<std::uint64_t, flight> in_flight_;
};

} // namespace command
