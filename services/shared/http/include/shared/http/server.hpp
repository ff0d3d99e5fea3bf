#pragma once
// A cpp-httplib server set up the way both services need it:
// - requests are read by a gate (one thread, epoll) under these limits, each
//   answered with problem+json and the connection closed:
//     request line over 8 KiB                         414 URI Too Long
//     over `max_header_count` fields, field lines over
//     `max_header_bytes` in all, or one over 8 KiB    431 Request Header Fields Too Large
//     Content-Length over `max_body`                  413 before the body is read
//     chunked payload over `max_body`                 413 as soon as it passes the cap
//     Content-Encoding other than identity            415 (bodies are never inflated)
//     request not whole `request_read_timeout` after
//     its first byte                                  408 Request Timeout
//     more than `max_connections` open                503 with Retry-After
//   (request_framing.hpp has the framing rules); a slow client holds no
//   worker, so trickling connections cannot starve the others,
// - complete requests are served by workers (one per request being
//   answered, at most `workers`, past which requests wait in FIFO order;
//   past `workers_kept`, a worker idle for `worker_idle_timeout` ends, so a
//   burst's threads go away); a worker never waits for a client to read:
//   the gate sends what is left (gate.hpp), TCP_NODELAY (without it keep-alive
//   answers wait ~40 ms: 580 vs 25,000 req/s), keep-alive connections idle
//   for `keep_alive_timeout` closed,
// - a POST without a JSON content type -> 415 on routes that read a JSON
//   body (see post_body), a known path with another
//   method -> 405 + Allow, unknown path -> 404, a handler's exception -> 500;
//   all as problem+json, the server keeps serving,
// - X-Request-Id taken from the request (or generated) and echoed,
// - http_requests_total{method,route,status} (route "rejected" for the
//   gate's answers), http_request_duration_seconds{route} and
//   http_connections_open in the metrics registry.
//
//   auto svr = std::make_unique<server>(
//     options, metrics, "platform.http",
//     std::vector<route>{{"/api/platforms/([^/]+)", "/api/platforms/{id}", get_one, nullptr}});
//   listener l{std::move(svr), host, port, owner}; // listener.hpp: binds and accepts
#include "shared/http/request_framing.hpp"
#include "shared/metrics/registry.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace shared::http {

struct server_options {
  std::size_t max_connections = 1024;       // open at once, idle ones included
  std::size_t max_body = 64 * 1024;         // bytes on the wire (never inflated)
  std::size_t max_header_count = 100;       // header fields
  std::size_t max_header_bytes = 16 * 1024; // the field lines together
  std::chrono::milliseconds request_read_timeout{10'000}; // from a request's first byte to its last
  std::size_t keep_alive_max_requests = 1'000'000;
  std::chrono::seconds keep_alive_timeout{5};
  std::chrono::milliseconds write_timeout{5'000}; // no byte of an answer left: closed
  // Requests answered at once; a handler waiting on the database holds one,
  // so this is above the POST concurrency the services meet (bench: 32).
  std::size_t workers = 64;
  std::size_t workers_kept = std::max(1u, std::thread::hardware_concurrency()); // when idle
  std::chrono::milliseconds worker_idle_timeout{5'000}; // then a worker past the kept ones ends

  framing_limits framing() const;
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

namespace detail {
class gate;
}

class server : public httplib::Server {
public:
  // `log_actor` names the server in log lines (e.g. "platform.http");
  // `metrics` outlives the server.
  server(const server_options& options, shared::metrics::registry& metrics,
         const std::string& log_actor, const std::vector<route>& routes);
  // Lets requests in flight finish, closes every connection.
  ~server() override;

private:
  // Called by cpp-httplib's accept loop: the gate takes the connection.
  bool process_and_close_socket(socket_t sock) override;

  std::unique_ptr<detail::gate> gate_;
};

} // namespace shared::http
