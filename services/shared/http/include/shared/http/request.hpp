#pragma once
// Reading requests: JSON bodies with ASP.NET's case-insensitive property
// names and per-field validation errors, positive 32-bit ids, request ids.
#include "shared/http/problem.hpp"

#include <actors/trace.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace shared::http {

// The longest text field, in Unicode code points (not bytes: "Ä" is one).
inline constexpr std::size_t max_text_length = 200;

// Reads a JSON object body field by field, collecting every problem:
//   body_reader body{req.body};
//   auto name = body.required_string("name");
//   if (!body.ok()) return reply(res, body.failure());
//
// The rules, the same for every text field of both services (name,
// publisher, cost, howTo, commandLine); each violation is a 400 validation
// problem with the message under the field's name:
// - the body is UTF-8 JSON whose top level is an object (else an error under "$");
// - no object in it repeats a property name, ignoring ASCII case
//   ({"name":"a","Name":"b"} is refused: which one was meant cannot be known;
//   the error is under the name as first written);
// - a text field is a string of 1 to max_text_length (200) code points,
//   valid UTF-8, without control characters (C0 U+0000-U+001F, DEL U+007F,
//   C1 U+0080-U+009F), and not blank: something is left after trimming
//   Unicode white space (U+0009-U+000D, U+0020, U+0085, U+00A0, U+1680,
//   U+180E, U+2000-U+200D, U+2028, U+2029, U+202F, U+205F, U+2060, U+3000, U+FEFF);
// - properties nobody asks for are ignored, as ASP.NET does.
// A value that passes is returned exactly as sent (nothing is trimmed).
// Messages are ours and quote no library text.
class body_reader {
public:
  explicit body_reader(std::string_view body);

  // The property whose name equals `field` ignoring ASCII case, when it
  // follows the rules above. Otherwise records an error under `field` and
  // returns "".
  std::string required_string(std::string_view field);

  bool ok() const { return failure_.errors.empty(); }

  // The 400 validation problem ("$" for errors about the whole body).
  const problem& failure() const { return failure_; }

private:
  void parse(std::string_view body);
  const nlohmann::json* find(std::string_view field) const;
  void error(std::string field, std::string message);

  nlohmann::json object_;
  std::set<std::string> repeated_; // top-level names given twice, lower case
  problem failure_;
};

// The message when `text` breaks the text field rules above, e.g. "The name
// field must not contain control characters (U+0007 at character 2)."; nullopt
// when it follows them.
std::optional<std::string> text_field_error(std::string_view field, std::string_view text);

// Equal ignoring ASCII case: ASP.NET's property names, media types.
bool iequals(std::string_view a, std::string_view b);

// "42" -> 42. Only decimal digits, value in [1, 2^31-1]; otherwise nullopt
// ("0", "-1", "99999999999", "abc", "+1", " 1").
std::optional<std::int32_t> parse_positive_id(std::string_view text);

// True for application/json and application/*+json, with any parameters.
bool is_json_content_type(std::string_view content_type);

// The request id of the request being answered on `res` (set by the server
// set-up from X-Request-Id, or generated).
std::string request_id(const httplib::Response& res);

// The W3C trace context of the request being answered on `res`: a new span
// of the caller's `traceparent` (or of a new trace), sent back as the
// `traceresponse` header; its traceparent() is what goes on to the next hop.
actors::trace::context trace_of(const httplib::Response& res);

// A usable X-Request-Id: 1-128 visible ASCII characters.
bool valid_request_id(std::string_view id);

// 16 random hex digits.
std::string generate_request_id();

} // namespace shared::http
