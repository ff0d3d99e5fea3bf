#include "events/event_parser.hpp"

#include <shared/http/request.hpp>

#include <nlohmann/json.hpp>

#include <limits>
#include <optional>

namespace command {
namespace {

using json = nlohmann::json;

using shared::http::iequals;

// A value as a reason quotes it: ASCII (escaped), at most a few dozen characters.
std::string shown(const json& value) {
  constexpr std::size_t max = 64;
  auto text = value.dump(-1, ' ', /*ensure_ascii=*/true);
  if (text.size() > max) {
    text.resize(max - 3);
    text += "...";
  }
  return text;
}

// True when brackets outside strings nest deeper than `max` (text that is not
// JSON is left to the parser to refuse).
bool nested_deeper_than(std::string_view text, std::size_t max) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max)
        return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// The value under `key` ignoring case; `ambiguous` when two keys match
// ("Id" and "id"), since then which one is meant cannot be known.
struct lookup {
  const json* value = nullptr;
  bool ambiguous = false;
};

lookup find(const json& object, std::string_view key) {
  lookup out;
  for (auto i = object.begin(); i != object.end(); ++i)
    if (iequals(i.key(), key)) {
      out.ambiguous = out.value != nullptr;
      out.value = &i.value();
    }
  return out;
}

// Sets `error` and returns nullptr when `key` is missing or ambiguous.
const json* field(const json& object, std::string_view key, std::string& error) {
  auto f = find(object, key);
  if (f.ambiguous)
    error = "key " + std::string{key} + " appears more than once (ignoring case)";
  else if (!f.value)
    error = "missing " + std::string{key};
  return f.ambiguous ? nullptr : f.value;
}

parsed_event platform_from(const json& object) {
  std::string error;
  auto* id = field(object, "Id", error);
  if (!id)
    return malformed_event{error};
  if (!id->is_number_integer())
    return malformed_event{"Id is not an integer: " + shown(*id)};
  constexpr auto max = std::numeric_limits<std::int32_t>::max();
  // Unsigned JSON numbers may not fit int64: map any too large to -1.
  std::int64_t value = id->is_number_unsigned()
                         ? (id->get<std::uint64_t>() > static_cast<std::uint64_t>(max) ? -1 : id->get<std::int64_t>())
                         : id->get<std::int64_t>();
  if (value < 1 || value > max)
    return malformed_event{"Id is not a positive 32-bit integer: " + shown(*id)};
  auto* name = field(object, "Name", error);
  if (!name)
    return malformed_event{error};
  if (!name->is_string() || name->get_ref<const std::string&>().empty())
    return malformed_event{"Name is not a non-empty string: " + shown(*name)};
  return platform_published{{static_cast<std::int32_t>(value), name->get<std::string>()}};
}

} // namespace

parsed_event parse_event(std::string_view body, const event_limits& limits) {
  if (body.size() > limits.max_bytes)
    return malformed_event{std::string{"larger than "}.append(std::to_string(limits.max_bytes))
                             .append(" bytes: ").append(std::to_string(body.size()))};
  if (nested_deeper_than(body, limits.max_depth))
    return malformed_event{std::string{"nested deeper than "}
                             .append(std::to_string(limits.max_depth)).append(" levels")};
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded())
    return malformed_event{"not JSON"};
  if (!doc.is_object())
    return malformed_event{"not a JSON object"};
  std::string error;
  auto* event = field(doc, "Event", error);
  if (!event)
    return malformed_event{error};
  if (!event->is_string())
    return malformed_event{"Event is not a string: " + shown(*event)};
  auto& type = event->get_ref<const std::string&>();
  if (type == "Platform_Published")
    return platform_from(doc);
  return unknown_event{type};
}

} // namespace command
