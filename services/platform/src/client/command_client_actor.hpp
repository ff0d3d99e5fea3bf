#pragma once
// The course's synchronous demonstration: after a platform is committed, POST
// it (as the GET body) to the Commands Service and log the outcome. Callers
// only enqueue (notify_atom, platform_record, request_id, traceparent); the
// POST, with both headers, runs on this actor's own thread over one
// kept-alive connection, with connect and read timeouts, so a slow or absent
// Commands Service never delays or fails the original request.
#include "config.hpp"
#include "platform.hpp"

#include <caf/all.hpp>

#include <optional>
#include <string>

namespace platform {

// "http://host:port/api/c/platforms" -> {"http://host:port", "/api/c/platforms"}.
struct split_url {
  std::string origin;
  std::string path;
};
std::optional<split_url> parse_url(const std::string& url);

caf::actor spawn_command_client(caf::actor_system& sys, const command_client_config& cfg);

} // namespace platform
