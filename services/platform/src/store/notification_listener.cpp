#include "store/notification_listener.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace platform {

notification_listener::notification_listener(const std::string& connection,
                                             const std::string& channel)
  : conn_(PQconnectdb(connection.c_str())) {
  if (!conn_)
    throw std::runtime_error("notifications: out of memory connecting to the database");
  if (PQstatus(conn_) != CONNECTION_OK)
    fail("cannot connect");
  auto* quoted = PQescapeIdentifier(conn_, channel.c_str(), channel.size());
  if (!quoted)
    fail("cannot quote channel " + channel);
  std::string listen = std::string{"LISTEN "} + quoted;
  PQfreemem(quoted);
  PGresult* r = PQexec(conn_, listen.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok)
    fail(listen);
}

notification_listener::~notification_listener() { PQfinish(conn_); }

void notification_listener::fail(const std::string& what) {
  std::string why = PQerrorMessage(conn_);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
    why.pop_back();
  PQfinish(conn_);
  conn_ = nullptr;
  throw std::runtime_error("notifications: " + what + ": " + why);
}

bool notification_listener::wait(std::chrono::milliseconds timeout) {
  pollfd socket{PQsocket(conn_), POLLIN, 0};
  if (socket.fd < 0)
    fail("the connection is closed");
  int ready = ::poll(&socket, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR)
    throw std::runtime_error(std::string{"notifications: poll: "} + std::strerror(errno));
  if (ready <= 0)
    return false;
  if (PQconsumeInput(conn_) == 0)
    fail("connection lost");
  bool any = false;
  while (PGnotify* note = PQnotifies(conn_)) {
    any = true;
    PQfreemem(note);
  }
  return any;
}

} // namespace platform
