#include "shared/http/operational.hpp"

#include <nlohmann/json.hpp>

namespace shared::http {

namespace {

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

} // namespace

std::vector<route> operational_routes(readiness_probe readiness,
                                      std::shared_ptr<const metrics::registry> metrics) {
  auto healthz = [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "Healthy"}});
  };
  auto readyz = [readiness = std::move(readiness)](const httplib::Request&,
                                                   httplib::Response& res) {
    bool ready = true;
    auto checks = nlohmann::json::object();
    for (auto& c : readiness()) {
      ready = ready && (c.ok || !c.required);
      checks[c.name] = c.state;
    }
    send_json(res, ready ? 200 : 503,
              {{"status", ready ? "Healthy" : "Unhealthy"}, {"checks", checks}});
  };
  auto expose = [metrics = std::move(metrics)](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->expose(), metrics::registry::content_type);
  };
  return {
    {"/healthz", "/healthz", healthz, {}},
    {"/readyz", "/readyz", readyz, {}},
    {"/metrics", "/metrics", expose, {}},
  };
}

} // namespace shared::http
