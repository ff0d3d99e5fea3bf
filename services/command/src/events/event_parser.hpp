#pragma once
// Reads an event from the bus the way the course's consumers do: a JSON
// object whose keys match case-insensitively ("Event", "event", "EVENT"),
// unknown keys ignored. Plain logic, tested without a broker.
#include "model.hpp"

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

parsed_event parse_event(std::string_view body);

} // namespace command
