#pragma once
// Publishes outbox events to RabbitMQ with rabbitmq-c 0.11: one connection
// and channel, used only from the thread that owns this object. The exchange
// is declared at connect; the channel is in confirm mode; send() publishes a
// batch (persistent, mandatory) without waiting, so the next batch can go out
// while the broker still confirms this one; settle_oldest() reads basic.ack /
// basic.nack / basic.return frames itself until the oldest batch is settled.
// Every broker or socket error throws amqp_error and leaves the object broken:
// its owner should fail and reconnect with a fresh one.
#include "config.hpp"
#include "platform.hpp"

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <deque>
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

  void send(const std::vector<outbox_event>& events);
  // Batches sent whose confirms are not all read yet, and the span of their
  // outbox ids (what the next batch must not contain).
  std::size_t in_flight() const { return batches_.size(); }
  id_range in_flight_ids() const;
  // Waits (up to the confirm timeout from its send) until every message of
  // the oldest batch is acked or nacked; throws when they do not come.
  publish_outcome settle_oldest();

  // Gives the library a chance to send and check heartbeats while idle; call
  // it well within the heartbeat interval. Throws if the connection is gone.
  void keep_alive();

private:
  // Messages of one send(), tags first_tag .. first_tag + ids.size() - 1.
  struct batch {
    std::uint64_t first_tag;
    std::vector<std::int64_t> ids; // ascending
    std::vector<int> state; // per message: unsettled, acked, nacked
    std::size_t unsettled;
    std::chrono::steady_clock::time_point deadline;
  };

  void open();
  void send_one(const outbox_event& event);
  // Handles one frame while confirms are due; false on timeout.
  bool read_frame(const timeval& wait);
  // `multiple` settles every tag up to and including `tag`, across batches.
  void settle(std::uint64_t tag, bool multiple, int how);
  void handle_return(std::uint16_t channel);
  [[noreturn]] void fail(const std::string& what);

  relay_config cfg_;
  amqp_connection_state_t conn_;
  std::uint64_t next_tag_ = 1; // delivery tags count from 1 after confirm.select
  std::deque<batch> batches_;
  std::size_t returned_ = 0; // since the last settle_oldest()
  bool broken_ = false;
};

} // namespace platform
