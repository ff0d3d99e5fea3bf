#pragma once
// The REST routes of the Platform Service (CONTRACTS.md) and the operational
// ones (healthz, readyz, metrics): request parsing, repository calls and
// answers. platform.rest (the shared REST actor) owns the server they run in.
#include "platform.hpp"
#include "repository/repository_actor.hpp"
#include "store/schema.hpp"

#include <actors/handle.hpp>
#include <shared/http/operational.hpp>
#include <shared/http/rest_controller_actor.hpp>
#include <shared/metrics/registry.hpp>

#include <memory>
#include <vector>

namespace platform {

struct platforms_api_deps {
  repository_client repository;
  std::shared_ptr<const schema_status> schema;
  std::shared_ptr<const shared::metrics::registry> metrics;
  actors::handle command_client; // the course's coupled POST after each create; may be empty
};

class platforms_api : public shared::http::rest_api {
public:
  explicit platforms_api(platforms_api_deps deps);

  std::vector<shared::http::route> routes() override;

private:
  // Without parameters the course's full list, streamed a page at a time (so
  // memory stays one page however large the catalogue); with ?limit=&after=
  // one page and a Link to the next.
  void get_all(const httplib::Request& req, httplib::Response& res);
  void stream_all(std::vector<platform_record> first_page, httplib::Response& res);
  void get_one(const httplib::Request& req, httplib::Response& res);
  void create(const httplib::Request& req, httplib::Response& res);
  std::vector<shared::http::readiness_check> readiness();

  platforms_api_deps deps_;
};

} // namespace platform
