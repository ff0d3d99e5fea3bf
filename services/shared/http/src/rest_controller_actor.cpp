#include "shared/http/rest_controller_actor.hpp"

#include "shared/http/listener.hpp"

#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <stdexcept>

namespace shared::http {

namespace {

struct rest_controller_state {
  std::string name;
  std::shared_ptr<rest_api> api;
  std::shared_ptr<metrics::registry> metrics;
  std::unique_ptr<listener> server; // declared last: destroyed first, stops the routes
};

caf::behavior rest_controller(caf::stateful_actor<rest_controller_state>* self, std::string name,
                              rest_config config, std::shared_ptr<rest_api> api,
                              std::shared_ptr<metrics::registry> metrics) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.name = std::move(name);
  st.api = std::move(api);
  st.metrics = std::move(metrics);
  auto svr = std::make_unique<httplib::Server>();
  configure(*svr, config.server, *st.metrics, st.name, st.api->routes());
  st.server = std::make_unique<listener>(std::move(svr), config.host, config.port, self->address());
  actors::log::info(st.name, "listening", {{"host", config.host}, {"port", config.port}});
  return {
    [](accept_loop_ended_atom) -> caf::result<void> {
      throw std::runtime_error("HTTP accept loop ended");
    },
  };
}

} // namespace

rest_config read_rest_config(actors::settings& s, std::uint16_t default_port) {
  rest_config c;
  c.port = s.port("HttpPort", default_port, "REST API listen port");
  c.server.max_connections = static_cast<std::size_t>(
    s.integer("HttpMaxConnections", 256, 1, 4096, "keep-alive connections served at once"));
  c.server.max_body = static_cast<std::size_t>(
    s.integer("HttpMaxBodyBytes", 64 * 1024, 1, 64 * 1024 * 1024, "larger bodies get 413"));
  c.request_timeout = s.duration("RequestTimeout", c.request_timeout,
                                 "deadline of a request's work (database, store); then 503");
  return c;
}

caf::actor spawn_rest_controller(caf::actor_system& sys, std::string name, rest_config config,
                                 std::shared_ptr<rest_api> api,
                                 std::shared_ptr<metrics::registry> metrics) {
  return sys.spawn<caf::detached>(rest_controller, std::move(name), std::move(config),
                                  std::move(api), std::move(metrics));
}

} // namespace shared::http
