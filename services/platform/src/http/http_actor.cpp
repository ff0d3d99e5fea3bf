#include "http/http_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <shared/http/listener.hpp>

#include <sys/socket.h>

namespace platform {

namespace {

struct http_state {
  std::string name = "platform.http";
  std::shared_ptr<platforms_controller> controller; // its routes point into it
  std::unique_ptr<shared::http::listener> server;                 // destroyed first: stops the routes
};

caf::behavior http(caf::stateful_actor<http_state>* self, http_config cfg,
                   std::shared_ptr<platforms_controller> controller,
                   std::shared_ptr<shared::http::metrics_registry> metrics) {
  actors::fail_on_exception(self);
  self->state.controller = controller;
  auto svr = std::make_unique<httplib::Server>();
  shared::http::configure(*svr, cfg.server, *metrics, self->state.name, controller->routes());
  // cpp-httplib 0.11 listens with a backlog of 5: a burst of new connections
  // (64 at once from wrk or a proxy) overflows it, and the dropped ones wait
  // for the 1 s SYN retransmit. Linux lets listen() raise the backlog of a
  // socket that already listens, so it is raised once the server is bound.
  int listening = -1;
  svr->set_socket_options([&listening](socket_t fd) {
    httplib::default_socket_options(fd);
    listening = fd;
  });
  self->state.server = std::make_unique<shared::http::listener>(std::move(svr), "0.0.0.0",
                                                                cfg.port, self->address());
  if (listening < 0 || ::listen(listening, SOMAXCONN) != 0)
    throw std::runtime_error("cannot raise the listen backlog of port " + std::to_string(cfg.port));
  actors::log::info(self->state.name, "listening", {{"port", cfg.port}});
  // The server runs on its own threads; the actor only answers "are you up".
  return {
    [](ready_atom) { return true; },
  };
}

} // namespace

caf::actor spawn_http(caf::actor_system& sys, const http_config& cfg,
                      std::shared_ptr<platforms_controller> controller,
                      std::shared_ptr<shared::http::metrics_registry> metrics) {
  return sys.spawn<caf::detached>(http, cfg, std::move(controller), std::move(metrics));
}

} // namespace platform
