#include "shared/http/listener.hpp"

#include <stdexcept>

#include <sys/socket.h>

namespace shared::http {

listener::listener(std::unique_ptr<httplib::Server> server, const std::string& host,
                   std::uint16_t port, caf::actor_addr owner)
  : server_(std::move(server)) {
  bind(host, port);
  thread_ = std::thread([this, owner] {
    server_->listen_after_bind();
    if (!stopping_)
      if (auto self = caf::actor_cast<caf::actor>(owner))
        caf::anon_send(self, accept_loop_ended_atom::value);
  });
}

// cpp-httplib 0.11 listens with a backlog of 5: a burst of new connections
// (64 at once from wrk or a proxy) overflows it, and the dropped ones wait for
// the 1 s SYN retransmit. Linux lets listen() raise the backlog of a socket
// that already listens, so it is raised once the server is bound.
void listener::bind(const std::string& host, std::uint16_t port) {
  int listening = -1;
  server_->set_socket_options([&listening](socket_t fd) {
    httplib::default_socket_options(fd);
    listening = fd;
  });
  bool bound = server_->bind_to_port(host.c_str(), port);
  server_->set_socket_options(httplib::default_socket_options); // `listening` goes away
  auto where = host + ":" + std::to_string(port);
  if (!bound)
    throw std::runtime_error("cannot listen on " + where);
  if (listening < 0 || ::listen(listening, SOMAXCONN) != 0)
    throw std::runtime_error("cannot raise the listen backlog of " + where);
}

listener::~listener() {
  stopping_ = true;
  server_->stop();
  thread_.join();
}

} // namespace shared::http
