#pragma once
// The routes every service serves besides its API, with the same bodies:
//   GET /healthz  200 {"status":"Healthy"} while the process serves HTTP (liveness)
//   GET /readyz   {"status":"Healthy"|"Unhealthy","checks":{"database":"up",...}},
//                 200 when every check passes, else 503 (readiness)
//   GET /metrics  Prometheus text
#include "shared/http/server.hpp"

#include <shared/metrics/registry.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace shared::http {

struct readiness_check {
  std::string name;  // "database", "subscriber"
  bool ok = false;
  std::string state; // "up", or why not
};

using readiness_probe = std::function<std::vector<readiness_check>()>;

std::vector<route> operational_routes(readiness_probe readiness,
                                      std::shared_ptr<const metrics::registry> metrics);

} // namespace shared::http
