#pragma once
// The REST front: an actor owning the cpp-httplib server that serves the
// platforms controller. It binds at start (a taken port fails the start) and
// stops the server, letting requests in flight finish, when it exits.
#include "config.hpp"
#include "http/platforms_controller.hpp"

#include <caf/all.hpp>

#include <memory>

namespace platform {

// `controller` outlives the actor's server (shared with the start function).
caf::actor spawn_http(caf::actor_system& sys, const http_config& cfg,
                      std::shared_ptr<platforms_controller> controller,
                      std::shared_ptr<shared::metrics::registry> metrics);

} // namespace platform
