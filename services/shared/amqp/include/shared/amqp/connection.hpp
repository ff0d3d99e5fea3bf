#pragma once
// One AMQP 0-9-1 connection (rabbitmq-c) with one channel, for one thread.
//
// rabbitmq-c is not thread-safe: create a connection on the thread that uses
// it and never share it. Heartbeats are serviced only inside next(),
// wait_for_confirms(), keep_alive() and publish(), so an owner that sits idle
// must call one of them at least every heartbeat/2 (a consume loop with a
// 200 ms timeout does). A broker that stops answering is reported within two
// heartbeats. The broker's connection.blocked / unblocked notices (a resource
// alarm: publishes are held until it clears) are read on the way and shown
// by blocked().
//
// Every failure (socket, protocol, a server closing the channel or the
// connection) throws shared::amqp::error with context:
//   "amqp 127.0.0.1:5672: queue.declare \"orders\": channel closed by server:
//    406 PRECONDITION_FAILED - inequivalent arg 'durable' ..."
// and, when the server closed, its reply code (reply_code() == 406).
// After an error the connection is unusable: destroy it and make a new one.
//
// Consuming (manual acks):
//   connection c{opts};
//   declare_trigger(c, broker); // `trigger` as every party declares it (topology.hpp)
//   c.declare_queue("commands", {.dead_letter_exchange = "commands.dlx"});
//   c.bind_queue("commands", "trigger");
//   c.qos(64);
//   c.consume("commands");
//   while (running)
//     if (auto m = c.next(200ms)) { ...; c.ack(m->delivery_tag); }
//
// Publishing with confirms (an outbox relay; use a connection that does not
// also consume, as a delivery arriving while confirms are read is an error):
//   c.enable_confirms();
//   for (auto& row : batch) seq[row.id] = c.publish("trigger", "", row.json, props);
//   auto settled = c.wait_for_confirms(5s); // seq -> acked / nacked / returned
//   // sequence numbers missing from `settled` are still unconfirmed
// Pipelined: publish the next batch before the last one is confirmed, and
// wait only for the oldest (`wait_for_confirms(5s, last_sequence_of_oldest)`).
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct amqp_connection_state_t_; // rabbitmq-c's, kept out of this header
struct amqp_frame_t_;

namespace shared::amqp {

class error : public std::runtime_error {
public:
  explicit error(const std::string& what, std::uint16_t reply_code = 0)
    : std::runtime_error(what), reply_code_(reply_code) {}

  // The code the server closed the channel or connection with (406
  // PRECONDITION_FAILED: e.g. a message over its max_message_size; 404,
  // 403, 320, ...); 0 when the server did not close it (socket, timeout).
  std::uint16_t reply_code() const { return reply_code_; }

private:
  std::uint16_t reply_code_;
};

// The reply code of a server's close for a request it will not satisfy as
// sent: an inequivalent redeclaration, a message over max_message_size.
inline constexpr std::uint16_t precondition_failed = 406;

struct broker_address {
  std::string host;
  std::uint16_t port = 5672;
};

struct connection_options {
  std::string host = "localhost";
  std::uint16_t port = 5672;
  // Other nodes of a cluster, tried in turn when the one before cannot be
  // reached (a refused or silent connect or handshake; a broker that answers
  // and refuses, e.g. a login, is not passed over).
  std::vector<broker_address> fallbacks;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  std::chrono::seconds heartbeat{10}; // 0 disables heartbeats
  // Bounds the TCP connect, the handshake and every synchronous RPC.
  std::chrono::milliseconds timeout{5'000};
  std::string name; // shown as connection_name in the management UI
};

struct exchange_options {
  std::string type = "fanout";
  bool durable = true;
  bool auto_delete = false;
  // Text arguments, e.g. {"alternate-exchange", "trigger.unrouted"}. RabbitMQ
  // compares alternate-exchange on each redeclaration (406 when it differs).
  std::map<std::string, std::string> arguments;
};

// classic: declared without x-queue-type (the node's default_queue_type
// decides; a classic queue lives on one node and is unavailable while that
// node is down). quorum: x-queue-type=quorum, replicated on the cluster's
// nodes, available while a majority runs; durable, never exclusive.
enum class queue_type { classic, quorum };

const char* to_string(queue_type type);

struct queue_options {
  queue_type type = queue_type::classic;
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;
  std::string dead_letter_exchange; // x-dead-letter-exchange, when not empty
  std::optional<std::string> dead_letter_routing_key;
};

// Properties of a published or delivered message.
struct properties {
  std::string message_id;
  std::string content_type;
  std::string type;
  std::string correlation_id;
  bool persistent = true; // delivery_mode 2
  // Application headers with text values (e.g. W3C `traceparent`); headers
  // of other kinds on a delivery are not read.
  std::map<std::string, std::string> headers;
};

struct delivery {
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;
  properties props;
};

enum class confirm_status {
  acked,    // the broker took responsibility for the message
  nacked,   // the broker could not take it: publish again
  returned, // mandatory and unroutable (no queue bound): acked but went nowhere
};

const char* to_string(confirm_status status);

class connection {
public:
  // Connects, logs in (with the heartbeat) and opens channel 1, at host:port
  // or else at the first fallback that can be reached.
  explicit connection(connection_options options);
  ~connection(); // closes gracefully when still healthy; never throws

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  const std::string& peer() const { return peer_; } // "host:port" connected to

  void declare_exchange(const std::string& name, const exchange_options& options = {});
  // Returns the queue's name (the server's choice when `name` is empty).
  std::string declare_queue(const std::string& name, const queue_options& options = {});
  void bind_queue(const std::string& queue, const std::string& exchange,
                  const std::string& routing_key = "");
  void qos(std::uint16_t prefetch_count);
  // Drops every ready message of the queue; returns how many.
  std::uint32_t purge_queue(const std::string& queue);
  // Deletes the queue with its messages and bindings; returns how many it held.
  std::uint32_t delete_queue(const std::string& queue);

  // Starts a consumer with manual acks; returns its consumer tag.
  std::string consume(const std::string& queue);
  // The next delivery, or nullopt when none arrives within `timeout`.
  std::optional<delivery> next(std::chrono::milliseconds timeout);
  // multiple=true acks every unsettled delivery of the channel up to and
  // including `delivery_tag` in one frame (rejected ones are settled already).
  void ack(std::uint64_t delivery_tag, bool multiple = false);
  // requeue=false sends it to the queue's dead-letter exchange (or drops it).
  void reject(std::uint64_t delivery_tag, bool requeue);

  // confirm.select: from now on each publish gets a sequence number (1, 2, ...).
  void enable_confirms();
  // Returns the sequence number with confirms enabled, else 0. `mandatory`
  // makes the broker return the message when no queue is bound; give it a
  // unique message_id so that the return can be matched to its publish.
  std::uint64_t publish(const std::string& exchange, const std::string& routing_key,
                        std::string_view body, const properties& props = {},
                        bool mandatory = false);
  // Reads the broker's acks, nacks and returns until every publish up to
  // sequence `up_to` (all of them by default) is settled or `timeout` passes;
  // returns the publishes settled since the last call. With nothing to wait
  // for it only does what keep_alive() does.
  std::map<std::uint64_t, confirm_status>
  wait_for_confirms(std::chrono::milliseconds timeout,
                    std::uint64_t up_to = std::numeric_limits<std::uint64_t>::max());
  std::size_t unconfirmed() const { return pending_.size(); }

  // Services heartbeats and reads whatever the broker sent (confirms, notices,
  // a close) without waiting; for an owner with nothing else to do.
  void keep_alive();

  // The broker's reason while it holds this connection's publishes (a memory
  // or disk alarm), nothing otherwise.
  const std::optional<std::string>& blocked() const { return blocked_; }

private:
  void open(const broker_address& address);
  // Throws when the last synchronous RPC failed.
  void check_reply(const char* operation, const std::string& subject);
  [[noreturn]] void fail(const char* operation, const std::string& subject,
                         const std::string& what, std::uint16_t reply_code = 0);
  void handle_frame(const amqp_frame_t_& frame);
  void settle(std::uint64_t tag, bool multiple, confirm_status status);
  // Reads one frame within `timeout`; false on timeout.
  bool read_frame(std::chrono::milliseconds timeout, const char* operation);

  connection_options options_;
  std::string peer_;
  amqp_connection_state_t_* conn_ = nullptr;
  bool healthy_ = false;
  bool confirms_ = false;
  std::uint64_t next_sequence_ = 1;
  std::map<std::uint64_t, std::string> pending_; // sequence -> message_id
  std::map<std::string, bool> returned_ids_;     // returned, awaiting their ack
  std::map<std::uint64_t, confirm_status> settled_;
  std::optional<std::string> blocked_;
};

} // namespace shared::amqp
