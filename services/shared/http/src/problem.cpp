#include "shared/http/problem.hpp"

#include "shared/http/request.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>

#include <nlohmann/json.hpp>

namespace shared::http {

namespace {

struct status_info {
  int status;
  const char* rfc;
  const char* section;
  const char* title;
};

// The titles ASP.NET Core uses, so problems look like the course's; 431 is
// RFC 6585's.
constexpr status_info known[] = {
  {400, "7231", "6.5.1", "One or more validation errors occurred."},
  {403, "7231", "6.5.3", "Forbidden"},
  {404, "7231", "6.5.4", "Not Found"},
  {405, "7231", "6.5.5", "Method Not Allowed"},
  {408, "7231", "6.5.7", "Request Timeout"},
  {413, "7231", "6.5.11", "Payload Too Large"},
  {414, "7231", "6.5.12", "URI Too Long"},
  {415, "7231", "6.5.13", "Unsupported Media Type"},
  {422, "4918", "11.2", "Unprocessable Entity"},
  {431, "6585", "5", "Request Header Fields Too Large"},
  {500, "7231", "6.6.1", "An error occurred while processing your request."},
  {501, "7231", "6.6.2", "Not Implemented"},
  {503, "7231", "6.6.4", "Service Unavailable"},
};

const status_info* info_of(int status) {
  for (auto& i : known)
    if (i.status == status)
      return &i;
  return nullptr;
}

} // namespace

std::string problem_type(int status) {
  auto* i = info_of(status);
  if (!i)
    return "about:blank";
  return std::string{"https://tools.ietf.org/html/rfc"}.append(i->rfc).append("#section-").append(
    i->section);
}

problem make_problem(int status, std::string detail) {
  problem p;
  p.status = status;
  auto* i = info_of(status);
  p.title = i ? i->title : (status < 500 ? "Bad Request" : "Internal Server Error");
  p.detail = std::move(detail);
  return p;
}

std::string to_json(const problem& p, const std::string& trace_id) {
  nlohmann::json j = {{"type", problem_type(p.status)}, {"title", p.title}, {"status", p.status}};
  if (!p.detail.empty())
    j["detail"] = p.detail;
  if (!p.errors.empty())
    j["errors"] = p.errors;
  if (!trace_id.empty())
    j["traceId"] = trace_id;
  // Details may quote invalid input: never fail to answer because of it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void reply(httplib::Response& res, const problem& p) {
  res.status = p.status;
  res.set_content(to_json(p, request_id(res)), "application/problem+json");
}

namespace {

// The text our code gave a not-found or conflict error (e.g. "Platform 7 is
// unknown."). Only a category a service registered is classified so, so the
// text is ours, never a library's.
std::string own_text(const caf::error& err) {
  auto& context = err.context();
  if (context.match_elements<std::string>())
    return context.get_as<std::string>(0);
  return "The resource is unknown.";
}

} // namespace

problem unexpected_error(const std::string& trace_id) {
  return make_problem(500, "An unexpected error occurred; see the service log for traceId "
                             + trace_id + ".");
}

problem problem_of(const caf::error& err, const std::string& trace_id) {
  switch (actors::kind_of(err)) {
    case actors::error_kind::not_found: return make_problem(404, own_text(err));
    case actors::error_kind::invalid:
      return make_problem(400, "The values were refused by the service's rules.");
    case actors::error_kind::conflict: return make_problem(422, own_text(err));
    case actors::error_kind::internal: return unexpected_error(trace_id);
    case actors::error_kind::unavailable: break;
  }
  return make_problem(503, "The service could not complete the request in time; retry later.");
}

void reply_error(httplib::Response& res, const caf::error& err, std::string_view log_actor,
                 std::string_view during) {
  using actors::log::level;
  auto id = request_id(res);
  auto p = problem_of(err, id);
  // What the client is not told is logged, under its traceId.
  auto [lvl, event] = p.status == 503   ? std::pair{level::warn, "database_unavailable"}
                      : p.status == 500 ? std::pair{level::error, "request_failed"}
                      : p.status == 400 || p.status == 422 ? std::pair{level::warn, "request_refused"}
                                        : std::pair{level::debug, "request_not_found"};
  if (actors::log::enabled(lvl)) {
    const actors::log::field fields[] = {
      {"during", during}, {"error", actors::describe(err)}, {"request_id", id}};
    actors::log::write(lvl, log_actor, event, fields);
  }
  reply(res, p);
}

} // namespace shared::http
