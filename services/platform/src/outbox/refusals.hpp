#pragma once
// What the relay does with outbox rows the broker will not take, as plain
// logic (no I/O, unit-tested). Such a row is parked: marked in the outbox
// (parked_at, parked_reason), logged with its id, counted, and skipped from
// then on, so the rows after it keep flowing. A row is parked when:
// - it is larger than `max_event_bytes`: before it is published, since a
//   message over the broker's max_message_size closes the channel;
// - the broker nacked it `max_nacks` times, each time having taken other
//   messages since (in the same batch, or between its nacks): a refusal of
//   this row, not of everything. A nack while the broker takes nothing (a
//   queue at its limit, a quorum without majority) counts against no row;
// - the broker closed the channel with 406 PRECONDITION_FAILED (a message it
//   will not take, e.g. over a max_message_size below ours) while it alone
//   was unsettled. With several unsettled, they become suspects and go out
//   one at a time until the one that closes the channel alone is found.
// A settled batch with nacks and no ack pauses sending, with backoff, rather
// than sending the same rows again at once: the relay never spins on a row.
#include "outbox/batch_pipeline.hpp"
#include "platform.hpp"

#include <actors/backoff.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace platform {

enum class park_reason : std::uint8_t {
  too_large, // over max_event_bytes
  nacked,    // nacked max_nacks times while the broker took others
  refused,   // alone in flight when the broker closed the channel with 406
};

// "too_large", "nacked", "refused": the metric label and the log's reason.
const char* to_string(park_reason reason);

struct parked_event {
  outbox_event event;
  park_reason reason;
  std::string detail; // e.g. "20480 bytes, over OutboxMaxEventBytes (1024)"
};

struct refusal_policy {
  std::size_t max_event_bytes = 16 * 1024 * 1024 - 64 * 1024;
  unsigned max_nacks = 3;
  actors::backoff_policy pause{std::chrono::milliseconds{100}, std::chrono::seconds{5}, 0};
};

class refusal_tracker {
public:
  using clock = std::chrono::steady_clock;

  explicit refusal_tracker(refusal_policy policy) : policy_(policy) {}

  // How many rows the next batch may hold: `normal`, or 1 while suspects
  // are being told apart.
  std::size_t batch_size(std::size_t normal) const { return suspects_.empty() ? normal : 1; }
  // While suspects are told apart a batch goes out only when none is in flight.
  bool isolating() const { return !suspects_.empty(); }
  // True until the pause after a batch the broker wholly refused is over.
  bool paused(clock::time_point now) const { return paused_until_ && now < *paused_until_; }
  // When sending may resume (meaningful while paused()).
  clock::time_point resume_at() const { return paused_until_.value_or(clock::time_point{}); }

  // The pending rows just read for the next batch (oldest first): suspects
  // older than the first one, or all when none is left, are no longer pending.
  void fetched(const std::vector<outbox_event>& events);
  // Takes the rows over max_event_bytes out of `events`, parked.
  std::vector<parked_event> too_large(std::vector<outbox_event>& events) const;
  // A batch the broker settled; returns the nacked rows now parked.
  std::vector<parked_event> settled(const batch_outcome& outcome, clock::time_point now);
  // The broker closed the channel with 406 (`why`) while `unsettled` were
  // in flight: the row parked when it was alone, else they become suspects.
  std::optional<parked_event> channel_refused(const std::vector<outbox_event>& unsettled,
                                              const std::string& why);

private:
  struct nacks {
    unsigned strikes = 0;     // nacks while the broker took others
    std::uint64_t acks_seen;  // acks_ at its last nack
  };

  refusal_policy policy_;
  std::uint64_t acks_ = 0;              // rows the broker took, all along
  std::map<std::int64_t, nacks> nacked_; // by outbox id, until acked or parked
  std::set<std::int64_t> suspects_;
  unsigned refused_batches_ = 0;        // in a row: the pause's backoff attempt
  std::optional<clock::time_point> paused_until_;
};

} // namespace platform
