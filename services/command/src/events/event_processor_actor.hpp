#pragma once
// command.event_processor: turns one event body from the bus into its effect
// on the store and reports what happened, so that the subscriber acks only
// what is committed and dead-letters what can never be processed.
#include "config.hpp"
#include "model.hpp"

#include <actors/handle.hpp>

#include <caf/all.hpp>

#include <cstdint>
#include <string>

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

// A store failure (not a refusal) answers with an error instead of a result.
using event_processor_actor = caf::typed_actor<
  caf::replies_to<process_atom, std::uint64_t, std::string>::with<event_result>>;

caf::actor spawn_event_processor(caf::actor_system& sys, event_processor_config config,
                                 actors::handle repository);

} // namespace command
