#pragma once
// command.event_processor: turns the event bodies the subscriber took from the
// bus together into their effect on the store, in one transaction, and
// reports what happened to each, so that the subscriber acks only what is
// committed and dead-letters what can never be processed.
#include "config.hpp"
#include "model.hpp"

#include <actors/handle.hpp>

#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace command {

enum class event_outcome : std::uint8_t {
  applied,   // committed: a new platform
  duplicate, // nothing to do: the platform was already there (a redelivery)
  ignored,   // an event type this service does not handle
  rejected,  // malformed, or values the store refuses: never processable
};

const char* to_string(event_outcome outcome);

struct event_result {
  std::uint64_t delivery_tag = 0; // echoed from the request
  event_outcome outcome = event_outcome::rejected;
  std::string detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_result& x) {
  return f(caf::meta::type_name("event_result"), x.delivery_tag, x.outcome, x.detail);
}

struct event_delivery {
  std::uint64_t delivery_tag = 0;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_delivery& x) {
  return f(caf::meta::type_name("event_delivery"), x.delivery_tag, x.body);
}

// A result per delivery, in the order given. A store failure (not a
// refusal) answers the whole batch with an error instead: nothing of it is
// acked, and it comes back redelivered.
using event_processor_actor = caf::typed_actor<
  caf::replies_to<process_atom, std::vector<event_delivery>>::with<std::vector<event_result>>>;

caf::actor spawn_event_processor(caf::actor_system& sys, event_processor_config config,
                                 actors::handle repository);

} // namespace command
