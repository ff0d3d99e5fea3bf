#pragma once
// A PostgreSQL LISTEN on its own libpq connection: waits for notifications on
// one channel. Blocking, for one thread; every failure (connect, a broken
// connection) throws std::runtime_error with libpq's message.
#include <chrono>
#include <string>

struct pg_conn; // libpq's PGconn, kept out of this header

namespace platform {

class notification_listener {
public:
  notification_listener(const std::string& connection, const std::string& channel);
  ~notification_listener();
  notification_listener(const notification_listener&) = delete;
  notification_listener& operator=(const notification_listener&) = delete;

  // Waits up to `timeout`; true when notifications arrived (all of them are
  // consumed: a burst of commits is one wake).
  bool wait(std::chrono::milliseconds timeout);

private:
  [[noreturn]] void fail(const std::string& what);

  pg_conn* conn_;
};

} // namespace platform
