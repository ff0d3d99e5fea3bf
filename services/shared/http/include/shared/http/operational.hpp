#pragma once
// The routes every service serves besides its API, with the same bodies:
//   GET /healthz  200 {"status":"Healthy"} while the process serves HTTP (liveness)
//   GET /readyz   {"status":"Healthy"|"Unhealthy","checks":{"database":"up",...}},
//                 200 when every required check passes, else 503 (readiness:
//                 "can serve its API"; a check that is not required, such as
//                 the command service's subscriber, is reported but never
//                 takes the service out of its Kubernetes Service)
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
  bool required = true;
};

using readiness_probe = std::function<std::vector<readiness_check>()>;

std::vector<route> operational_routes(readiness_probe readiness,
                                      std::shared_ptr<const metrics::registry> metrics);

} // namespace shared::http
