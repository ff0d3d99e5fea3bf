#pragma once
// Reading requests: JSON bodies with ASP.NET's case-insensitive property
// names and per-field validation errors, positive 32-bit ids, request ids.
#include "shared/http/problem.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shared::http {

// Reads a JSON object body field by field, collecting every problem:
//   body_reader body{req.body};
//   auto name = body.required_string("name");
//   if (!body.ok()) return reply(res, body.failure());
class body_reader {
public:
  explicit body_reader(std::string_view body);

  // The property whose name equals `field` ignoring ASCII case: a string that
  // is not empty or blank. Otherwise records an error under `field` and
  // returns "".
  std::string required_string(std::string_view field);

  bool ok() const { return failure_.errors.empty(); }

  // The 400 validation problem ("$" for errors about the whole body).
  const problem& failure() const { return failure_; }

private:
  const nlohmann::json* find(std::string_view field) const;
  void error(std::string field, std::string message);

  nlohmann::json object_;
  problem failure_;
};

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

// A usable X-Request-Id: 1-128 visible ASCII characters.
bool valid_request_id(std::string_view id);

// 16 random hex digits.
std::string generate_request_id();

} // namespace shared::http
