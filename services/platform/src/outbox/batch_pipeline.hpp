#pragma once
// The relay's batches in flight on one confirm-mode channel, as bookkeeping
// only (no I/O, unit-tested): a batch is sent whole with consecutive publish
// sequence numbers; up to `max_in_flight` batches wait for confirms at once
// (the broker confirms one while the next goes out); the broker's settlements
// arrive in any grouping and are applied here; the oldest batch leaves once
// each of its messages is settled, telling which outbox ids to mark
// published and which the broker nacked (refusal_tracker decides their fate).
#include "platform.hpp"

#include <shared/amqp/connection.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace platform {

struct batch_outcome {
  std::vector<std::int64_t> confirmed; // acked (returned ones included): mark published
  std::vector<outbox_event> returned;  // acked, but routed to no queue (mandatory)
  std::vector<outbox_event> nacked;    // stay pending unless parked
};

class batch_pipeline {
public:
  explicit batch_pipeline(std::size_t max_in_flight) : max_in_flight_(max_in_flight) {}

  std::size_t in_flight() const { return batches_.size(); }
  bool full() const { return batches_.size() >= max_in_flight_; }
  // The span of outbox ids in flight: what the next batch must not contain.
  id_range in_flight_ids() const;

  // `events` (ascending ids) were published as sequences first_sequence, +1, ...
  void sent(std::vector<outbox_event> events, std::uint64_t first_sequence);
  // The last sequence of the oldest batch: what to wait for. Needs in_flight().
  std::uint64_t oldest_last_sequence() const;
  // Settlements as the connection reports them, for any batches in flight.
  void settle(const std::map<std::uint64_t, shared::amqp::confirm_status>& settled);
  std::size_t oldest_unsettled() const;
  // The events of every batch in flight that the broker has not settled yet.
  std::vector<outbox_event> unsettled() const;
  // Removes the oldest batch once it is settled (oldest_unsettled() == 0).
  batch_outcome take_oldest();

private:
  struct batch {
    std::uint64_t first_sequence;
    std::vector<outbox_event> events;
    std::vector<std::optional<shared::amqp::confirm_status>> status; // per event
    std::size_t unsettled;
  };

  std::size_t max_in_flight_;
  std::deque<batch> batches_;
};

} // namespace platform
