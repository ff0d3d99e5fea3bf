#include "rest/platforms_api.hpp"

#include <actors/errors.hpp>
#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>

namespace platform {

namespace http = shared::http;

namespace {

const char* const actor_name = "platform.rest";

void json_reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json; charset=utf-8");
}

} // namespace

platforms_api::platforms_api(platforms_api_deps deps) : deps_(std::move(deps)) {}

std::vector<http::route> platforms_api::routes() {
  auto bind = [this](void (platforms_api::*f)(const httplib::Request&, httplib::Response&)) {
    return [this, f](const httplib::Request& req, httplib::Response& res) { (this->*f)(req, res); };
  };
  std::vector<http::route> routes{
    {"/api/platforms/?", "/api/platforms", bind(&platforms_api::get_all),
     bind(&platforms_api::create)},
    {"/api/platforms/([^/]+)", "/api/platforms/{id}", bind(&platforms_api::get_one), {}},
  };
  for (auto& r : http::operational_routes([this] { return readiness(); }, deps_.metrics))
    routes.push_back(std::move(r));
  return routes;
}

void platforms_api::get_all(const httplib::Request&, httplib::Response& res) {
  auto all = deps_.repository.all();
  if (!all)
    return http::reply_error(res, all.error(), actor_name, "list");
  json_reply(res, 200, to_json_array(*all));
}

void platforms_api::get_one(const httplib::Request& req, httplib::Response& res) {
  auto id = http::parse_positive_id(req.matches[1].str());
  if (!id) {
    auto p = http::make_problem(400);
    p.errors["id"].push_back("The id must be an integer from 1 to 2147483647, not '"
                             + req.matches[1].str() + "'.");
    return http::reply(res, p);
  }
  auto found = deps_.repository.find(*id);
  if (!found)
    return http::reply_error(res, found.error(), actor_name, "find");
  json_reply(res, 200, to_json(*found).dump());
}

void platforms_api::create(const httplib::Request& req, httplib::Response& res) {
  http::body_reader body{req.body};
  new_platform input{body.required_string("name"), body.required_string("publisher"),
                     body.required_string("cost")};
  if (!body.ok())
    return http::reply(res, body.failure());
  auto request_id = http::request_id(res);
  auto created = deps_.repository.create(input, request_id);
  if (!created)
    return http::reply_error(res, created.error(), actor_name, "create");
  res.set_header("Location", "/api/platforms/" + std::to_string(created->id));
  json_reply(res, 201, to_json(*created).dump());
  // The course's coupled call: the command service hears of it over HTTP
  // too, off this request's path (the actor only enqueues here).
  if (deps_.command_client)
    caf::anon_send(deps_.command_client.actor(), notify_atom::value, *created, request_id);
}

// Ready when the schema is current and a repository member's session answers.
std::vector<http::readiness_check> platforms_api::readiness() {
  if (!deps_.schema->current())
    return {{"database", false, "migrations are not applied yet"}};
  auto ping = deps_.repository.ping();
  return {{"database", static_cast<bool>(ping), ping ? "up" : actors::describe(ping.error())}};
}

} // namespace platform
