#include "rest/rest_controller_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <shared/http/listener.hpp>

#include <memory>

namespace command {
namespace {

struct rest_controller_state {
  std::string name = "command.rest";
  std::unique_ptr<command_api> api;     // the routes point into it
  std::shared_ptr<shared::metrics::registry> metrics;
  std::unique_ptr<shared::http::listener> server; // declared last: destroyed first
};

caf::behavior rest_controller(caf::stateful_actor<rest_controller_state>* self, rest_config config,
                              command_api_deps deps) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.metrics = deps.metrics;
  st.api = std::make_unique<command_api>(self->system(), std::move(deps), config.request_timeout);
  auto svr = std::make_unique<httplib::Server>();
  shared::http::configure(*svr, config.server, *st.metrics, st.name, st.api->routes());
  st.server = std::make_unique<shared::http::listener>(std::move(svr), config.host, config.port,
                                                       self->address());
  actors::log::info(st.name, "listening", {{"host", config.host}, {"port", config.port}});
  return {
    [](ping_atom) { return true; }, // the server runs on its own threads
  };
}

} // namespace

caf::actor spawn_rest_controller(caf::actor_system& sys, rest_config config, command_api_deps deps) {
  return sys.spawn<caf::detached>(rest_controller, std::move(config), std::move(deps));
}

} // namespace command
