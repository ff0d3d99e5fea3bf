#include "http/http_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <shared/http/listener.hpp>

namespace platform {

namespace {

struct http_state {
  std::string name = "platform.http";
  std::shared_ptr<platforms_controller> controller; // its routes point into it
  std::unique_ptr<shared::http::listener> server;                 // destroyed first: stops the routes
};

caf::behavior http(caf::stateful_actor<http_state>* self, http_config cfg,
                   std::shared_ptr<platforms_controller> controller,
                   std::shared_ptr<shared::metrics::registry> metrics) {
  actors::fail_on_exception(self);
  self->state.controller = controller;
  auto svr = std::make_unique<httplib::Server>();
  shared::http::configure(*svr, cfg.server, *metrics, self->state.name, controller->routes());
  self->state.server = std::make_unique<shared::http::listener>(std::move(svr), "0.0.0.0",
                                                                cfg.port, self->address());
  actors::log::info(self->state.name, "listening", {{"port", cfg.port}});
  // The server runs on its own threads; the actor only answers "are you up".
  return {
    [](ready_atom) { return true; },
  };
}

} // namespace

caf::actor spawn_http(caf::actor_system& sys, const http_config& cfg,
                      std::shared_ptr<platforms_controller> controller,
                      std::shared_ptr<shared::metrics::registry> metrics) {
  return sys.spawn<caf::detached>(http, cfg, std::move(controller), std::move(metrics));
}

} // namespace platform
