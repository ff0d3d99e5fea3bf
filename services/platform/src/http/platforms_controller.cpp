#include "http/platforms_controller.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>

namespace platform {

namespace http = shared::http;

namespace {

const char* const actor_name = "platform.http";

void json_reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json; charset=utf-8");
}

} // namespace

platforms_controller::platforms_controller(repository_client repository,
                                           std::shared_ptr<shared::metrics::registry> metrics,
                                           created_callback created)
  : repository_(std::move(repository)), metrics_(std::move(metrics)), created_(std::move(created)) {}

std::vector<http::route> platforms_controller::routes() {
  auto bind = [this](void (platforms_controller::*f)(const httplib::Request&, httplib::Response&)) {
    return [this, f](const httplib::Request& req, httplib::Response& res) { (this->*f)(req, res); };
  };
  auto alive = [](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200, R"({"status":"alive"})");
  };
  return {
    {"/api/platforms/?", "/api/platforms", bind(&platforms_controller::get_all),
     bind(&platforms_controller::create)},
    {"/api/platforms/([^/]+)", "/api/platforms/{id}", bind(&platforms_controller::get_one), {}},
    {"/healthz", "/healthz", alive, {}},
    {"/readyz", "/readyz", bind(&platforms_controller::readyz), {}},
    {"/metrics", "/metrics", bind(&platforms_controller::metrics), {}},
  };
}

void platforms_controller::fail(httplib::Response& res, const caf::error& err, const char* during) {
  if (is(err, platform_errc::not_found))
    return http::reply(res, http::make_problem(404, actors::describe(err)));
  auto why = actors::describe(err);
  actors::log::warn(actor_name, "database_unavailable",
                    {{"during", during}, {"error", why}, {"request_id", http::request_id(res)}});
  http::reply(res, http::make_problem(503, "The database is not available: " + why));
}

void platforms_controller::get_all(const httplib::Request&, httplib::Response& res) {
  auto all = repository_.all();
  if (!all)
    return fail(res, all.error(), "list");
  json_reply(res, 200, to_json_array(*all));
}

void platforms_controller::get_one(const httplib::Request& req, httplib::Response& res) {
  auto id = http::parse_positive_id(req.matches[1].str());
  if (!id) {
    auto p = http::make_problem(400);
    p.errors["id"].push_back("The id must be an integer from 1 to 2147483647, not '"
                             + req.matches[1].str() + "'.");
    return http::reply(res, p);
  }
  auto found = repository_.find(*id);
  if (!found)
    return fail(res, found.error(), "find");
  json_reply(res, 200, to_json(*found).dump());
}

void platforms_controller::create(const httplib::Request& req, httplib::Response& res) {
  http::body_reader body{req.body};
  new_platform input{body.required_string("name"), body.required_string("publisher"),
                     body.required_string("cost")};
  if (!body.ok())
    return http::reply(res, body.failure());
  auto request_id = http::request_id(res);
  auto created = repository_.create(input, request_id);
  if (!created)
    return fail(res, created.error(), "create");
  res.set_header("Location", "/api/platforms/" + std::to_string(created->id));
  json_reply(res, 201, to_json(*created).dump());
  if (created_)
    created_(*created, request_id);
}

void platforms_controller::readyz(const httplib::Request&, httplib::Response& res) {
  auto ready = repository_.ready();
  if (ready && *ready)
    return json_reply(res, 200, R"({"status":"ready"})");
  auto why = ready ? std::string{"migrations are not applied yet"} : actors::describe(ready.error());
  http::reply(res, http::make_problem(503, "Not ready: " + why));
}

void platforms_controller::metrics(const httplib::Request&, httplib::Response& res) {
  res.set_content(metrics_->expose(), shared::metrics::registry::content_type);
}

} // namespace platform
