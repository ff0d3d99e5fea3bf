#pragma once
// The REST routes of CONTRACTS (/api/c/...) plus healthz, readyz and
// metrics, as shared::http routes. Reads come from the read model when there
// is one (the in-memory store), else from the repository actor; writes always
// go to the repository actor.
#include "events/subscriber_actor.hpp"
#include "store/read_model.hpp"

#include <actors/handle.hpp>
#include <shared/metrics/registry.hpp>
#include <shared/http/server.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <vector>

namespace command {

struct command_api_deps {
  actors::handle repository;
  std::shared_ptr<const read_model> view; // null: read through the repository
  std::shared_ptr<const subscriber_status> subscriber;
  std::shared_ptr<shared::metrics::registry> metrics;
};

class command_api {
public:
  command_api(caf::actor_system& sys, command_api_deps deps,
              std::chrono::milliseconds request_timeout);

  std::vector<shared::http::route> routes();

private:
  void list_platforms(const httplib::Request& req, httplib::Response& res);
  void inbound_test(const httplib::Request& req, httplib::Response& res);
  void list_commands(const httplib::Request& req, httplib::Response& res);
  void get_command(const httplib::Request& req, httplib::Response& res);
  void create_command(const httplib::Request& req, httplib::Response& res);
  void healthz(const httplib::Request& req, httplib::Response& res);
  void readyz(const httplib::Request& req, httplib::Response& res);
  void metrics(const httplib::Request& req, httplib::Response& res);

  // A repository call; failures are answered on `res` (404/503/500).
  template <class T, class... Ts>
  std::optional<T> call(httplib::Response& res, Ts&&... xs);

  caf::actor_system& sys_;
  command_api_deps deps_;
  std::chrono::milliseconds timeout_;
};

} // namespace command
