#pragma once
// The REST routes of the Platform Service (CONTRACTS.md): request parsing,
// repository calls and answers. The http actor owns the server they run in.
#include "platform.hpp"
#include "repository/repository_actor.hpp"

#include <shared/metrics/registry.hpp>
#include <shared/http/server.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace platform {

class platforms_controller {
public:
  // `created` is told about each committed platform (off the request's path:
  // it must only enqueue), with the request id.
  using created_callback = std::function<void(const platform_record&, const std::string&)>;

  platforms_controller(repository_client repository,
                       std::shared_ptr<shared::metrics::registry> metrics,
                       created_callback created);

  std::vector<shared::http::route> routes();

private:
  void get_all(const httplib::Request& req, httplib::Response& res);
  void get_one(const httplib::Request& req, httplib::Response& res);
  void create(const httplib::Request& req, httplib::Response& res);
  void readyz(const httplib::Request& req, httplib::Response& res);
  void metrics(const httplib::Request& req, httplib::Response& res);
  // 404 for not_found; anything else means the database is not answering: 503.
  void fail(httplib::Response& res, const caf::error& err, const char* during);

  repository_client repository_;
  std::shared_ptr<shared::metrics::registry> metrics_;
  created_callback created_;
};

} // namespace platform
