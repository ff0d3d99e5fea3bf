#include "shared/http/server.hpp"

#include "gate.hpp"
#include "shared/http/problem.hpp"
#include "shared/http/request.hpp"

#include <actors/log.hpp>

#include <chrono>
#include <memory>

namespace shared::http {

namespace {

using clock = std::chrono::steady_clock;

// What the request being served on this worker thread has shown so far.
// cpp-httplib serves a request start to finish on one thread, from the
// pre-routing handler to the logger.
struct in_flight {
  bool active = false;
  clock::time_point start;
  const std::string* route = nullptr; // the matched route's label
};
thread_local in_flight current;

const std::string unmatched = "unmatched";

// cpp-httplib's accept loop hands each connection to its task queue; the
// gate takes it at once, on the accept thread.
class accept_inline : public httplib::TaskQueue {
public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

std::string allow_header(const route& r) {
  std::string allow;
  if (r.get)
    allow = "GET, HEAD";
  if (r.post)
    allow += allow.empty() ? "POST" : ", POST";
  return allow;
}

// The label lives as long as the server's handlers, which hold it.
handler measured(std::shared_ptr<const std::string> label, handler h) {
  return [label, h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    current.route = label.get();
    h(req, res);
  };
}

handler json_only(handler h) {
  return [h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
    auto type = req.get_header_value("Content-Type");
    if (!is_json_content_type(type))
      return reply(res, make_problem(415, "Expected Content-Type application/json, got '"
                                            + type + "'."));
    h(req, res);
  };
}

// RFC 9112 section 6.3: a request with neither Content-Length nor
// Transfer-Encoding has no body. cpp-httplib 0.11 reads one until the client
// closes instead (`curl -X POST` waited for the read timeout, then got 400),
// unless it is told the length. Runs before the body is read; the request is
// the server's own, non-const object.
void no_framing_means_no_body(const httplib::Request& req) {
  if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
    const_cast<httplib::Request&>(req).headers.emplace("Content-Length", "0");
}

void add_route(httplib::Server& svr, const route& r) {
  auto allow = allow_header(r);
  handler not_allowed = [allow](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", allow);
    reply(res, make_problem(405, req.method + " is not allowed here; allowed: " + allow + "."));
  };
  auto label = std::make_shared<const std::string>(r.label);
  svr.Get(r.pattern, measured(label, r.get ? r.get : not_allowed));
  auto post = !r.post ? not_allowed : r.reads == post_body::json ? json_only(r.post) : r.post;
  svr.Post(r.pattern, measured(label, post));
  svr.Put(r.pattern, measured(label, not_allowed));
  svr.Patch(r.pattern, measured(label, not_allowed));
  svr.Delete(r.pattern, measured(label, not_allowed));
  svr.Options(r.pattern, measured(label, [allow](const httplib::Request&, httplib::Response& res) {
                res.status = 204;
                res.set_header("Allow", allow);
              }));
}

std::string error_detail(const httplib::Request& req, int status, std::size_t max_body) {
  switch (status) {
    case 404: return "No resource at " + req.path + ".";
    case 413: return "The body is larger than " + std::to_string(max_body) + " bytes.";
    default: return {};
  }
}

} // namespace

framing_limits server_options::framing() const {
  framing_limits limits;
  limits.max_header_count = max_header_count;
  limits.max_header_bytes = max_header_bytes;
  limits.max_body = max_body;
  return limits;
}

server::server(const server_options& options, shared::metrics::registry& metrics,
               const std::string& log_actor, const std::vector<route>& routes) {
  set_tcp_nodelay(true);
  new_task_queue = [] { return new accept_inline; };
  // For the Keep-Alive header; the gate applies them.
  set_keep_alive_max_count(options.keep_alive_max_requests);
  set_keep_alive_timeout(options.keep_alive_timeout.count());
  set_payload_max_length(options.max_body);

  set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    current = {true, clock::now(), nullptr};
    no_framing_means_no_body(req);
    auto id = req.get_header_value("X-Request-Id");
    res.set_header("X-Request-Id", valid_request_id(id) ? id : generate_request_id());
    // This request's span of the caller's trace (or of a new one): on every
    // line this thread logs until the response is written, and told back.
    auto trace = actors::trace::child_of(req.get_header_value("traceparent"));
    res.set_header("traceresponse", trace.traceparent());
    actors::log::set_context(trace.log_fields());
    return httplib::Server::HandlerResponse::Unhandled;
  });
  for (auto& r : routes)
    add_route(*this, r);

  // Errors cpp-httplib answers itself (404, 413, 400 for a broken request)
  // get a problem body; answers a handler already wrote are left alone.
  set_error_handler(httplib::Server::HandlerWithResponse{
    [max_body = options.max_body](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty())
        return httplib::Server::HandlerResponse::Unhandled;
      reply(res, make_problem(res.status, error_detail(req, res.status, max_body)));
      return httplib::Server::HandlerResponse::Handled;
    }});
  set_exception_handler([log_actor](const httplib::Request& req, httplib::Response& res,
                                    std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    actors::log::error(log_actor, "handler_failed", {{"method", req.method}, {"path", req.path},
                                                      {"request_id", request_id(res)},
                                                      {"error", what}});
    reply(res, unexpected_error(request_id(res)));
  });

  auto& requests = metrics.counter("http_requests_total", "HTTP requests answered",
                                   {"method", "route", "status"});
  auto& latency = metrics.histogram("http_request_duration_seconds",
                                    "Time from routing to response, by route", {"route"});
  set_logger([&requests, &latency, log_actor](const httplib::Request& req,
                                              const httplib::Response& res) {
    auto& route = current.route ? *current.route : unmatched;
    requests.inc({req.method, route, std::to_string(res.status)});
    if (current.active) {
      auto seconds = std::chrono::duration<double>(clock::now() - current.start).count();
      latency.observe({route}, seconds);
    }
    actors::log::debug(log_actor, "request", {{"method", req.method}, {"path", req.path},
                                              {"status", res.status},
                                              {"request_id", request_id(res)}});
    actors::log::clear_context();
    current = {};
  });

  auto& open = metrics.gauge("http_connections_open", "Client connections open");
  detail::gate_hooks hooks{
    [&requests, log_actor](const detail::refusal& r) {
      requests.inc({r.method, "rejected", std::to_string(r.status)});
      actors::log::debug(log_actor, "request_refused", {{"method", r.method}, {"status", r.status},
                                                        {"detail", r.detail},
                                                        {"request_id", r.request_id}});
    },
    [&open](std::size_t n) { open.set({}, static_cast<double>(n)); }};
  gate_ = std::make_unique<detail::gate>(
    options,
    [this](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
      return process_request(strm, close_connection, connection_closed, nullptr);
    },
    std::move(hooks));
}

server::~server() {
  gate_.reset(); // its workers call into this server
}

bool server::process_and_close_socket(socket_t sock) {
  gate_->admit(sock);
  return true;
}

} // namespace shared::http
