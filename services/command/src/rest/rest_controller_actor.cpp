#include "rest/rest_controller_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <atomic>
#include <memory>
#include <thread>

namespace command {
namespace {

using listen_ended_atom = caf::atom_constant<caf::atom("c_lstnend")>;

// The server and its accept thread; tells the owner if the accept loop ends
// without stop().
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

struct rest_controller_state {
  std::string name = "command.rest";
  std::unique_ptr<command_api> api;     // the routes point into it
  std::shared_ptr<shared::http::metrics_registry> metrics;
  std::unique_ptr<listener> server;     // declared last: destroyed first
};

caf::behavior rest_controller(caf::stateful_actor<rest_controller_state>* self, rest_config config,
                              command_api_deps deps) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.metrics = deps.metrics;
  st.api = std::make_unique<command_api>(self->system(), std::move(deps), config.request_timeout);
  auto svr = std::make_unique<httplib::Server>();
  shared::http::configure(*svr, config.server, *st.metrics, st.name, st.api->routes());
  if (!svr->bind_to_port(config.host.c_str(), config.port))
    throw std::runtime_error("cannot listen on " + config.host + ":" + std::to_string(config.port));
  st.server = std::make_unique<listener>(std::move(svr), self->address());
  actors::log::info(st.name, "listening", {{"host", config.host}, {"port", config.port}});
  return {
    [=](listen_ended_atom) {
      self->quit(actors::make_error(actors::errc::unhandled_exception, "HTTP accept loop ended"));
    },
  };
}

} // namespace

caf::actor spawn_rest_controller(caf::actor_system& sys, rest_config config, command_api_deps deps) {
  return sys.spawn<caf::detached>(rest_controller, std::move(config), std::move(deps));
}

} // namespace command
