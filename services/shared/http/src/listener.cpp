#include "shared/http/listener.hpp"

#include <actors/errors.hpp>

#include <stdexcept>

namespace shared::http {

listener::listener(std::unique_ptr<httplib::Server> server, const std::string& host,
                   std::uint16_t port, caf::actor_addr owner)
  : server_(std::move(server)) {
  if (!server_->bind_to_port(host.c_str(), port))
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port));
  thread_ = std::thread([this, owner] {
    server_->listen_after_bind();
    if (!stopping_)
      if (auto self = caf::actor_cast<caf::actor>(owner))
        caf::anon_send(self, caf::exit_msg{owner, actors::make_error(
                                                    actors::errc::unhandled_exception,
                                                    "HTTP accept loop ended")});
  });
}

listener::~listener() {
  stopping_ = true;
  server_->stop();
  thread_.join();
}

} // namespace shared::http
