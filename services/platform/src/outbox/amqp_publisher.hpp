#pragma once
// Publishes outbox events to RabbitMQ with rabbitmq-c 0.11: one connection
// and channel, used only from the thread that owns this object. The exchange
// is declared at connect; the channel is in confirm mode; publish() sends a
// batch (persistent, mandatory) and then reads basic.ack / basic.nack /
// basic.return frames itself until every message of the batch is settled.
// Every broker or socket error throws amqp_error and leaves the object broken:
// its owner should fail and reconnect with a fresh one.
#include "config.hpp"
#include "platform.hpp"

#include <amqp.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace platform {

class amqp_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct publish_outcome {
  std::vector<std::int64_t> confirmed; // outbox ids the broker acked, to mark published
  std::size_t nacked = 0;              // stay pending, retried next round
  std::size_t returned = 0;            // acked, but no queue was bound (mandatory)
};

class amqp_publisher {
public:
  explicit amqp_publisher(const relay_config& cfg);
  ~amqp_publisher();
  amqp_publisher(const amqp_publisher&) = delete;
  amqp_publisher& operator=(const amqp_publisher&) = delete;

  publish_outcome publish(const std::vector<outbox_event>& events);

  // Gives the library a chance to send and check heartbeats while idle; call
  // it well within the heartbeat interval. Throws if the connection is gone.
  void keep_alive();

private:
  void open();
  void send(const outbox_event& event);
  // Handles one frame while confirms are due; false on timeout.
  bool settle_one(std::vector<int>& state, std::uint64_t first_tag, std::size_t& unsettled,
                  publish_outcome& out, const timeval& wait);
  void handle_return(std::uint16_t channel, publish_outcome& out);
  [[noreturn]] void fail(const std::string& what);

  relay_config cfg_;
  amqp_connection_state_t conn_;
  std::uint64_t next_tag_ = 1; // delivery tags count from 1 after confirm.select
  bool broken_ = false;
};

} // namespace platform
