#include "http/http_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <atomic>
#include <thread>

namespace platform {

namespace {

using listen_ended_atom = caf::atom_constant<caf::atom("p_lstnend")>;

// The server and its accept thread. If the accept loop ends on its own (not
// through stop()), the owning actor is failed so that it is restarted.
class listener {
public:
  listener(std::unique_ptr<httplib::Server> svr, caf::actor_addr owner)
    : svr_(std::move(svr)), thread_([this, owner] {
        svr_->listen_after_bind();
        if (!stopping_)
          if (auto self = caf::actor_cast<caf::actor>(owner))
            caf::anon_send(self, listen_ended_atom::value);
      }) {}
  ~listener() {
    stopping_ = true;
    svr_->stop();
    thread_.join();
  }

private:
  std::atomic<bool> stopping_{false};
  std::unique_ptr<httplib::Server> svr_;
  std::thread thread_;
};

struct http_state {
  std::string name = "platform.http";
  std::shared_ptr<platforms_controller> controller; // its routes point into it
  std::unique_ptr<listener> server;                 // destroyed first: stops the routes
};

caf::behavior http(caf::stateful_actor<http_state>* self, http_config cfg,
                   std::shared_ptr<platforms_controller> controller,
                   std::shared_ptr<shared::http::metrics_registry> metrics) {
  actors::fail_on_exception(self);
  self->state.controller = controller;
  auto svr = std::make_unique<httplib::Server>();
  shared::http::configure(*svr, cfg.server, *metrics, self->state.name, controller->routes());
  if (!svr->bind_to_port("0.0.0.0", cfg.port))
    throw std::runtime_error("cannot listen on HTTP port " + std::to_string(cfg.port));
  self->state.server = std::make_unique<listener>(std::move(svr), self->address());
  actors::log::info(self->state.name, "listening", {{"port", cfg.port}});
  // The server runs on its own threads; the actor only answers "are you up".
  return {
    [](ready_atom) { return true; },
    [=](listen_ended_atom) {
      self->quit(actors::make_error(actors::errc::unhandled_exception, "HTTP accept loop ended"));
    },
  };
}

} // namespace

caf::actor spawn_http(caf::actor_system& sys, const http_config& cfg,
                      std::shared_ptr<platforms_controller> controller,
                      std::shared_ptr<shared::http::metrics_registry> metrics) {
  return sys.spawn<caf::detached>(http, cfg, std::move(controller), std::move(metrics));
}

} // namespace platform
