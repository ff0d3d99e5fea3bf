#pragma once
// Reads an event from the bus the way the course's consumers do: a JSON
// object whose keys match case-insensitively ("Event", "event", "EVENT"),
// unknown keys ignored. Plain logic, tested without a broker.
//
// A hostile body is bounded before it is parsed: one over `max_bytes`, or
// with brackets nested deeper than `max_depth` (a scan of the raw text: no
// parser ever holds 100,000 levels, and nothing recurses over them), is
// malformed. Values quoted in a reason are cut to a few dozen characters.
#include "model.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace command {

// {"Id":5,"Name":"Docker","Event":"Platform_Published"}
struct platform_published {
  platform p;
};

// A well-formed event of a type this service does not handle.
struct unknown_event {
  std::string type;
};

// Cannot be processed, ever: not JSON, not an object, missing or mistyped fields.
struct malformed_event {
  std::string reason;
};

using parsed_event = std::variant<platform_published, unknown_event, malformed_event>;

struct event_limits {
  std::size_t max_bytes = 64 * 1024; // RabbitMQMaxEventBytes
  std::size_t max_depth = 32;        // the course's event has 1 level
};

parsed_event parse_event(std::string_view body, const event_limits& limits = {});

} // namespace command
