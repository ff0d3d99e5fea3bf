#pragma once
// The REST routes of CONTRACTS (/api/c/...) plus the operational ones
// (healthz, readyz, metrics), served by shared::http's REST actor. Reads come
// from the read model when there is one (the in-memory store), else from the
// repository actor; writes always go to the repository actor. A repository
// call that fails is answered by shared::http::reply_error: unknown platform
// or command 404, values the store refuses 400, a repository down, too slow
// or failing 503. POST /api/c/platforms (the course's inbound test) reads no
// body, so it needs no Content-Type.
//
// Ready (/readyz 200) when the store answers: check "database" ("up" or why
// not). Check "subscriber" ("consuming" or "reconnecting") is reported but not
// required: with the broker away every route still answers.
#include "events/subscriber_actor.hpp"
#include "store/read_model.hpp"

#include <actors/handle.hpp>
#include <shared/http/operational.hpp>
#include <shared/http/rest_controller_actor.hpp>
#include <shared/metrics/registry.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace command {

struct commands_api_deps {
  actors::handle repository;
  std::shared_ptr<const read_model> view; // null: read through the repository
  std::shared_ptr<const subscriber_status> subscriber;
  std::shared_ptr<const shared::metrics::registry> metrics;
};

class commands_api : public shared::http::rest_api {
public:
  commands_api(caf::actor_system& sys, commands_api_deps deps,
               std::chrono::milliseconds request_timeout);

  std::vector<shared::http::route> routes() override;

private:
  void list_platforms(const httplib::Request& req, httplib::Response& res);
  void inbound_test(const httplib::Request& req, httplib::Response& res);
  void list_commands(const httplib::Request& req, httplib::Response& res);
  void get_command(const httplib::Request& req, httplib::Response& res);
  void create_command(const httplib::Request& req, httplib::Response& res);
  std::vector<shared::http::readiness_check> readiness();

  // A repository call; a failure is answered on `res` (`during` names the
  // work in the log line of an unavailable repository).
  template <class T, class... Ts>
  std::optional<T> call(httplib::Response& res, std::string_view during, Ts&&... xs);

  caf::actor_system& sys_;
  commands_api_deps deps_;
  std::chrono::milliseconds timeout_;
};

} // namespace command
