#pragma once
// A configured server bound to its port and accepting on its own thread,
// owned by a REST actor. If the accept loop ends by itself (not through
// the destructor), the owner gets `accept_loop_ended_atom` and should fail, so
// that its supervisor restarts it.
#include "shared/http/server.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace shared::http {

using accept_loop_ended_atom = caf::atom_constant<caf::atom("http_ended")>;

class listener {
public:
  // Binds at once (port 0: any free port), with a listen backlog of
  // SOMAXCONN: throws std::runtime_error naming host:port when it cannot.
  // `owner` may be null (nobody to tell).
  listener(std::unique_ptr<server> server, const std::string& host, std::uint16_t port,
           caf::actor_addr owner);
  ~listener(); // stops accepting and waits for requests in flight

  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  std::uint16_t port() const { return port_; }

private:
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ended_{false}; // the accept loop returned
  std::unique_ptr<server> server_;
  std::uint16_t port_;
  std::thread thread_;
};

} // namespace shared::http
