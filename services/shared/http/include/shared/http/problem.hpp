#pragma once
// RFC 7807 problem details, the body of every 4xx/5xx response:
//   {"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1",
//    "title":"One or more validation errors occurred.","status":400,
//    "errors":{"name":["The name field is required."]},"traceId":"..."}
// Types and titles follow what ASP.NET Core answers, so clients of the
// course's services see the same shape.
#include <caf/error.hpp>
#include <httplib.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace shared::http {

struct problem {
  int status = 500;
  std::string title;
  std::string detail;                                     // omitted when empty
  std::map<std::string, std::vector<std::string>> errors; // omitted when empty
};

// A problem with the standard type/title for `status`.
problem make_problem(int status, std::string detail = {});

// The RFC 7231 section URI for `status` (used as `type`).
std::string problem_type(int status);

// JSON text; `trace_id` (the request id) is added when not empty.
std::string to_json(const problem& p, const std::string& trace_id = {});

// Answers `res` with `p` as application/problem+json, echoing the request id.
void reply(httplib::Response& res, const problem& p);

// A 500 for a bug: "An unexpected error occurred; see the service log for
// traceId <trace_id>." (what happened is in that log line).
problem unexpected_error(const std::string& trace_id);

// The one mapping from an actor's error to an answer, by actors::kind_of.
// No detail quotes an error's own text unless our code wrote it for clients:
//   not_found   404, the text our code gave it ("Platform 7 is unknown."),
//   invalid     400, "The values were refused by the service's rules." (e.g. a
//               database constraint a request broke),
//   internal    500, "An unexpected error occurred; see the service log for
//               traceId <trace_id>.",
//   unavailable 503, "The service could not complete the request in time;
//               retry later." (an actor down, slow or failed: SQL, libpq and
//               CAF texts stay in the log).
problem problem_of(const caf::error& err, const std::string& trace_id = {});

// Answers `res` with problem_of(err) and logs what the body does not say
// (actors::describe(err)) with what was being done and the request id: a 503
// as a warning (event=database_unavailable: the service's data path did not
// answer), a 500 as an error (event=request_failed), a 400 as a warning
// (event=request_refused), a 404 at debug level.
void reply_error(httplib::Response& res, const caf::error& err, std::string_view log_actor,
                 std::string_view during);

} // namespace shared::http
