#pragma once
// The real platform-service binary as a child process on free loopback ports,
// pointed at the fixture's PostgreSQL and RabbitMQ; plus small real clients
// (HTTP, AMQP) that the integration tests share.
#include <child_process.hpp>
#include <real_servers.hpp>

#include <httplib.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace shared::amqp {
class connection; // shared_amqp's, kept out of this header
} // namespace shared::amqp

namespace platform_it {

int free_port();

struct service_options {
  std::string database;                    // its name
  bool fresh_database = true;              // dropped and created again first
  std::vector<std::string> extra_flags;    // e.g. "--CommandServiceEnabled=false"
  bool command_client = false;             // off unless a test gives a URL
  const support::rabbitmq_server* broker = nullptr; // nullptr: support::rabbitmq()
};

class service_process {
public:
  explicit service_process(const service_options& options);
  ~service_process();

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  httplib::Client http() const;
  support::child_process& process() { return *process_; }

  // Polls GET /readyz until 200; false when `deadline` passes first.
  bool wait_ready(std::chrono::milliseconds deadline = std::chrono::seconds(30));
  // SIGTERM, then the exit code (nullopt if it did not exit in time).
  std::optional<int> stop();

  // The value of one metric series from GET /metrics (0 when absent).
  double metric(const std::string& series);

private:
  int http_port_;
  int grpc_port_;
  std::unique_ptr<support::child_process> process_;
};

// A message as the test consumer received it.
struct received {
  std::string body;
  std::string message_id;
  std::string type;
  std::string content_type;
  std::string correlation_id;
  int delivery_mode = 0; // 2: persistent, 1: not
  std::string traceparent; // its W3C header ("" when absent)
};

// A blocking AMQP client for tests (shared_amqp): declares a durable queue
// bound to the fanout exchange and reads from it, acking each message it
// returns. Every failure throws.
class queue_reader {
public:
  queue_reader(const support::rabbitmq_server& broker, const std::string& queue,
               const std::string& exchange = "trigger");
  queue_reader(queue_reader&&) noexcept;
  ~queue_reader();

  // A reader of `queue` emptied first: what the test's own creates publish.
  static queue_reader emptied(const support::rabbitmq_server& broker, const std::string& queue);

  // Messages until `count` arrived or `deadline` passed.
  std::vector<received> take(std::size_t count, std::chrono::milliseconds deadline);

private:
  std::unique_ptr<shared::amqp::connection> conn_;
  bool consuming_ = false;
  std::string queue_;
};

// Declares and binds the queue (and the exchange, as the services declare
// it), empties it, and closes.
void prepare_queue(const support::rabbitmq_server& broker, const std::string& queue,
                   const std::string& exchange = "trigger");

} // namespace platform_it
