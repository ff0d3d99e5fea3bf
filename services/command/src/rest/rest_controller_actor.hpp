#pragma once
// command.rest: serves command_api's routes over HTTP. The server runs on its
// own threads; the actor owns it (stopped and joined when the actor exits)
// and fails when it cannot listen or its accept loop ends on its own.
#include "rest/command_api.hpp"

#include <shared/http/server.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace command {

struct rest_config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 6000;
  shared::http::server_options server;
  std::chrono::milliseconds request_timeout{2'000}; // repository answer deadline
};

caf::actor spawn_rest_controller(caf::actor_system& sys, rest_config config, command_api_deps deps);

} // namespace command
