#include "shared/http/listener.hpp"

#include <chrono>
#include <stdexcept>

#include <sys/socket.h>

namespace shared::http {

namespace {

// SO_REUSEADDR only, so that a restart binds past TIME_WAIT. cpp-httplib's
// default adds SO_REUSEPORT, with which a second instance binds the same
// port without a word and the kernel splits the connections between them.
void exclusive_port(socket_t fd) {
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// cpp-httplib 0.11 listens with a backlog of 5: a burst of new connections
// (64 at once from wrk or a proxy) overflows it, and the dropped ones wait for
// the 1 s SYN retransmit. Linux lets listen() raise the backlog of a socket
// that already listens, so it is raised once the server is bound.
std::uint16_t bind_listening(httplib::Server& svr, const std::string& host, std::uint16_t port) {
  int listening = -1;
  svr.set_socket_options([&listening](socket_t fd) {
    exclusive_port(fd);
    listening = fd;
  });
  int bound = port == 0 ? svr.bind_to_any_port(host) : (svr.bind_to_port(host, port) ? port : -1);
  svr.set_socket_options(exclusive_port); // `listening` goes away
  auto where = host + ":" + std::to_string(port);
  if (bound <= 0)
    throw std::runtime_error("cannot listen on " + where);
  if (listening < 0 || ::listen(listening, SOMAXCONN) != 0)
    throw std::runtime_error("cannot raise the listen backlog of " + where);
  return static_cast<std::uint16_t>(bound);
}

} // namespace

listener::listener(std::unique_ptr<server> server, const std::string& host,
                   std::uint16_t port, caf::actor_addr owner)
  : server_(std::move(server)), port_(bind_listening(*server_, host, port)) {
  thread_ = std::thread([this, owner] {
    server_->listen_after_bind();
    ended_ = true;
    if (!stopping_)
      if (auto self = caf::actor_cast<caf::actor>(owner))
        caf::anon_send(self, accept_loop_ended_atom::value);
  });
  // cpp-httplib's stop() does nothing before the accept loop runs: a listener
  // destroyed at once would otherwise wait in accept() forever.
  while (!server_->is_running() && !ended_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

listener::~listener() {
  stopping_ = true;
  server_->stop();
  thread_.join();
}

} // namespace shared::http
