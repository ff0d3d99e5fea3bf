#pragma once
// The subscriber's deliveries in flight: handed to the event processor and
// not yet settled (acked or rejected), by delivery tag, with when each was
// sent and where it came from: the request id (the AMQP correlation_id) and
// the trace context of its handling (a span of the message's traceparent). The oldest
// one tells whether the processor is too slow: past `timeout`, the subscriber
// fails and reconnects, and the unsettled deliveries come back redelivered.
//
// Acks go out with `multiple` for settled runs: a delivery to ack waits until
// every delivery before it on the channel is settled too (tags are numbered
// in delivery order, and every delivery read is tracked), so that one ack
// frame covers the run and nothing in flight is acked with it. Rejects are
// sent one by one as they settle (a rejected delivery is no longer pending,
// so an ack with `multiple` over it leaves it alone).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace command {

struct delivery_origin {
  std::string request_id;  // "" when it came without one
  std::string traceparent; // this service's span for the delivery
};

class delivery_tracker {
public:
  using clock = std::chrono::steady_clock;

  explicit delivery_tracker(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // A delivery handed to the processor `at`.
  void track(std::uint64_t delivery_tag, delivery_origin origin,
             clock::time_point at = clock::now());

  enum class settlement { ack, reject };

  // Stops tracking the delivery and returns where it came from; nullopt when
  // it is not in flight. One to ack waits for ackable().
  std::optional<delivery_origin> settle(std::uint64_t delivery_tag, settlement how);

  // The tag to ack now with `multiple`: the highest one settled to ack that
  // is lower than every tag still in flight; nullopt when there is none. The
  // run up to it counts as acked from then on.
  std::optional<std::uint64_t> take_ackable();

  // Why the oldest delivery is late, e.g. "delivery 7 (request_id r-1) not
  // processed within 5000ms"; nullopt while none has waited beyond the timeout.
  std::optional<std::string> overdue(clock::time_point now = clock::now()) const;

  std::size_t size() const { return in_flight_.size(); }
  bool empty() const { return in_flight_.empty(); }

private:
  struct flight {
    clock::time_point sent;
    delivery_origin origin;
  };

  std::chrono::milliseconds timeout_;
  std::map<std::uint64_t, flight> in_flight_;
  std::set<std::uint64_t> to_ack_;
};

} // namespace command
