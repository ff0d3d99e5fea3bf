#pragma once
// A configured cpp-httplib server bound to its port and accepting on its own
// thread, owned by a REST actor. If the accept loop ends by itself (not through
// the destructor), the owner gets `accept_loop_ended_atom` and should fail, so
// that its supervisor restarts it.
#include <caf/all.hpp>
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace shared::http {

using accept_loop_ended_atom = caf::atom_constant<caf::atom("http_ended")>;

class listener {
public:
  // Binds at once, with a listen backlog of SOMAXCONN: throws
  // std::runtime_error naming host:port when it cannot.
  listener(std::unique_ptr<httplib::Server> server, const std::string& host, std::uint16_t port,
           caf::actor_addr owner);
  ~listener(); // stops accepting and waits for requests in flight

  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

private:
  void bind(const std::string& host, std::uint16_t port);

  std::atomic<bool> stopping_{false};
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

} // namespace shared::http
