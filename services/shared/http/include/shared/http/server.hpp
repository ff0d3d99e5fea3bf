#pragma once
// Sets up a cpp-httplib server the way both services need it:
// - TCP_NODELAY (without it keep-alive answers wait ~40 ms: 580 vs 25,000 req/s),
// - a worker per connection for `max_connections` keep-alive connections,
//   and keep-alive connections not closed after 5 requests,
// - bodies over `max_body` -> 413, a POST without a JSON content type -> 415
//   on routes that read a JSON body (see post_body),
//   a known path with another method -> 405 + Allow, unknown path -> 404,
//   a handler's exception -> 500; all as problem+json, the server keeps serving,
// - X-Request-Id taken from the request (or generated) and echoed,
// - http_requests_total{method,route,status} and
//   http_request_duration_seconds{route} in the metrics registry.
//
//   httplib::Server svr;
//   configure(svr, options, metrics, "platform.http",
//             {{"/api/platforms/([^/]+)", "/api/platforms/{id}", get_one, nullptr}});
//   svr.bind_to_port(host, port); svr.listen_after_bind();
#include "shared/metrics/registry.hpp"

#include <httplib.h>

#include <cstddef>
#include <string>
#include <vector>

namespace shared::http {

struct server_options {
  std::size_t max_connections = 256; // served at once, each by its own worker
  std::size_t max_body = 64 * 1024;  // bytes
  std::size_t keep_alive_max_requests = 1'000'000;
  std::chrono::seconds keep_alive_timeout{5};
};

using handler = httplib::Server::Handler;

// What a route's POST handler reads.
enum class post_body {
  json, // a JSON body: a request without a JSON Content-Type is a 415
  none, // nothing: any body is ignored, so no Content-Type is needed
};

struct route {
  std::string pattern; // cpp-httplib regex, matched against the whole path
  std::string label;   // the route in metrics and logs, e.g. "/api/platforms/{id}"
  handler get;         // may be empty
  handler post;        // may be empty
  post_body reads = post_body::json;
};

// `log_actor` names the server in log lines (e.g. "platform.http").
void configure(httplib::Server& svr, const server_options& options, shared::metrics::registry& metrics,
               const std::string& log_actor, const std::vector<route>& routes);

} // namespace shared::http
