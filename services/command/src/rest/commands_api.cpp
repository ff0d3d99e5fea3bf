#include "rest/commands_api.hpp"

#include <actors/bridge.hpp>
#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>

#include <nlohmann/json.hpp>

namespace command {
namespace {

using json = nlohmann::json;
namespace http = shared::http;

const std::string log_name = "command.rest";

json to_json(const platform& p) {
  return {{"id", p.id}, {"name", p.name}};
}

json to_json(const command_record& c) {
  return {{"id", c.id}, {"howTo", c.how_to}, {"commandLine", c.command_line},
          {"platformId", c.platform_id}};
}

template <class T>
json to_json(const std::vector<T>& xs) {
  auto out = json::array();
  for (auto& x : xs)
    out.push_back(to_json(x));
  return out;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

// The route's ids: 400 unless each is a positive 32-bit integer.
std::optional<std::vector<std::int32_t>> ids_of(const httplib::Request& req,
                                                httplib::Response& res) {
  std::vector<std::int32_t> ids;
  for (std::size_t i = 1; i < req.matches.size(); ++i) {
    auto text = req.matches[i].str();
    auto id = http::parse_positive_id(text);
    if (!id) {
      text.insert(0, 1, '\'').append("' is not a positive 32-bit integer id.");
      http::reply(res, http::make_problem(400, std::move(text)));
      return std::nullopt;
    }
    ids.push_back(*id);
  }
  return ids;
}

void not_found(httplib::Response& res, const caf::error& err) {
  http::reply(res, http::problem_of(err));
}

} // namespace

commands_api::commands_api(caf::actor_system& sys, commands_api_deps deps,
                           std::chrono::milliseconds request_timeout)
  : sys_(sys), deps_(std::move(deps)), timeout_(request_timeout) {}

template <class T, class... Ts>
std::optional<T> commands_api::call(httplib::Response& res, std::string_view during, Ts&&... xs) {
  auto r = actors::call<T>(sys_, deps_.repository, timeout_, std::forward<Ts>(xs)...);
  if (r)
    return std::move(*r);
  http::reply_error(res, r.error(), log_name, during);
  return std::nullopt;
}

std::vector<http::route> commands_api::routes() {
  auto bind = [this](void (commands_api::*f)(const httplib::Request&, httplib::Response&)) {
    return [this, f](const httplib::Request& req, httplib::Response& res) { (this->*f)(req, res); };
  };
  std::vector<http::route> routes = {
    {"/api/c/platforms/?", "/api/c/platforms", bind(&commands_api::list_platforms),
     bind(&commands_api::inbound_test), http::post_body::none},
    {"/api/c/platforms/([^/]+)/commands/?", "/api/c/platforms/{platformId}/commands",
     bind(&commands_api::list_commands), bind(&commands_api::create_command)},
    {"/api/c/platforms/([^/]+)/commands/([^/]+)",
     "/api/c/platforms/{platformId}/commands/{commandId}", bind(&commands_api::get_command),
     nullptr},
  };
  auto operational = http::operational_routes([this] { return readiness(); }, deps_.metrics);
  routes.insert(routes.end(), operational.begin(), operational.end());
  return routes;
}

void commands_api::list_platforms(const httplib::Request&, httplib::Response& res) {
  if (deps_.view)
    return send_json(res, 200, to_json(deps_.view->platforms()));
  if (auto ps = call<std::vector<platform>>(res, "list_platforms", caf::get_atom::value))
    send_json(res, 200, to_json(*ps));
}

// The course's inbound-connection test: the Platform Service posts each new
// platform here synchronously. It reads no body, so it needs no Content-Type
// (a bare `POST /api/c/platforms` answers 200 too, as the course does).
void commands_api::inbound_test(const httplib::Request& req, httplib::Response& res) {
  actors::log::info(log_name, "inbound_test", {{"bytes", req.body.size()},
                                               {"request_id", http::request_id(res)}});
  res.set_content("Inbound test of from Platforms Controler", "text/plain; charset=utf-8");
}

void commands_api::list_commands(const httplib::Request& req, httplib::Response& res) {
  auto ids = ids_of(req, res);
  if (!ids)
    return;
  auto platform_id = (*ids)[0];
  if (deps_.view) {
    auto cs = deps_.view->commands(platform_id);
    return cs ? send_json(res, 200, to_json(*cs)) : not_found(res, unknown_platform(platform_id));
  }
  if (auto cs = call<std::vector<command_record>>(res, "list_commands", caf::get_atom::value,
                                                  platform_id))
    send_json(res, 200, to_json(*cs));
}

void commands_api::get_command(const httplib::Request& req, httplib::Response& res) {
  auto ids = ids_of(req, res);
  if (!ids)
    return;
  auto [platform_id, command_id] = std::pair{(*ids)[0], (*ids)[1]};
  if (deps_.view) {
    if (auto c = deps_.view->command(platform_id, command_id))
      return send_json(res, 200, to_json(*c));
    if (!deps_.view->has_platform(platform_id))
      return not_found(res, unknown_platform(platform_id));
    return not_found(res, unknown_command(platform_id, command_id));
  }
  if (auto c = call<command_record>(res, "get_command", caf::get_atom::value, platform_id,
                                    command_id))
    send_json(res, 200, to_json(*c));
}

void commands_api::create_command(const httplib::Request& req, httplib::Response& res) {
  auto ids = ids_of(req, res);
  if (!ids)
    return;
  auto platform_id = (*ids)[0];
  http::body_reader body{req.body};
  command_input in;
  in.how_to = body.required_string("howTo");
  in.command_line = body.required_string("commandLine");
  if (!body.ok())
    return http::reply(res, body.failure());
  auto c = call<command_record>(res, "create_command", add_atom::value, platform_id,
                               std::move(in));
  if (!c)
    return;
  res.set_header("Location", "/api/c/platforms/" + std::to_string(platform_id) + "/commands/"
                               + std::to_string(c->id));
  send_json(res, 201, to_json(*c));
}

// Ready when the store answers: every route is served from it. The bus only
// delays what the store learns, so a broker that is away is reported here
// (and in /metrics and the logs) but keeps the service in rotation.
std::vector<http::readiness_check> commands_api::readiness() {
  auto store = actors::call<caf::ok_atom>(sys_, deps_.repository, timeout_, ping_atom::value);
  bool consuming = deps_.subscriber->consuming;
  return {
    {"database", static_cast<bool>(store), store ? "up" : actors::describe(store.error())},
    {"subscriber", consuming, consuming ? "consuming" : "reconnecting", false},
  };
}

} // namespace command
