#include "outbox/amqp_publisher.hpp"

#include <actors/log.hpp>

#include <amqp_tcp_socket.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace platform {

namespace {

constexpr amqp_channel_t channel = 1;
const char* const log_name = "platform.outbox_relay";

enum settle : int { unsettled = 0, acked, nacked };

timeval to_timeval(std::chrono::milliseconds d) {
  return {static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>(d.count() % 1000 * 1000)};
}

amqp_bytes_t bytes(const std::string& s) {
  return {s.size(), const_cast<char*>(s.data())};
}

std::string describe(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "ok";
    case AMQP_RESPONSE_NONE: return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "connection closed by broker: " + std::to_string(m->reply_code) + " "
               + std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "channel closed by broker: " + std::to_string(m->reply_code) + " "
               + std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len);
      }
      return "server exception";
  }
  return "unknown reply";
}

} // namespace

amqp_publisher::amqp_publisher(const relay_config& cfg)
  : cfg_(cfg), conn_(amqp_new_connection()) {
  try {
    open();
  } catch (...) {
    amqp_destroy_connection(conn_);
    throw;
  }
}

amqp_publisher::~amqp_publisher() {
  // A broken connection is not closed politely: the broker may not answer.
  if (!broken_) {
    amqp_channel_close(conn_, channel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn_);
}

void amqp_publisher::fail(const std::string& what) {
  broken_ = true;
  throw amqp_error("broker " + cfg_.host + ":" + std::to_string(cfg_.port) + ": " + what);
}

void amqp_publisher::open() {
  auto* socket = amqp_tcp_socket_new(conn_);
  if (!socket)
    fail("cannot create a socket");
  auto timeout = to_timeval(cfg_.confirm_timeout);
  if (int rc = amqp_socket_open_noblock(socket, cfg_.host.c_str(), cfg_.port, &timeout); rc != 0)
    fail(std::string{"cannot connect: "} + amqp_error_string2(rc));
  broken_ = true; // until the handshake completes, closing politely would hang
  amqp_set_handshake_timeout(conn_, &timeout);
  amqp_set_rpc_timeout(conn_, &timeout);
  auto login = amqp_login(conn_, "/", 0, 131072, static_cast<int>(cfg_.heartbeat.count()),
                          AMQP_SASL_METHOD_PLAIN, cfg_.user.c_str(), cfg_.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL)
    fail("login: " + describe(login));
  broken_ = false;
  amqp_channel_open(conn_, channel);
  if (auto r = amqp_get_rpc_reply(conn_); r.reply_type != AMQP_RESPONSE_NORMAL)
    fail("channel.open: " + describe(r));
  amqp_exchange_declare(conn_, channel, bytes(cfg_.exchange), amqp_cstring_bytes("fanout"), 0,
                        cfg_.durable_exchange, 0, 0, amqp_empty_table);
  if (auto r = amqp_get_rpc_reply(conn_); r.reply_type != AMQP_RESPONSE_NORMAL)
    fail("exchange.declare " + cfg_.exchange + " (durable="
         + (cfg_.durable_exchange ? "true" : "false") + "): " + describe(r));
  amqp_confirm_select(conn_, channel);
  if (auto r = amqp_get_rpc_reply(conn_); r.reply_type != AMQP_RESPONSE_NORMAL)
    fail("confirm.select: " + describe(r));
}

void amqp_publisher::send_one(const outbox_event& e) {
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
                 | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG
                 | AMQP_BASIC_CORRELATION_ID_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  props.message_id = bytes(e.message_id);
  props.type = bytes(e.type);
  props.correlation_id = bytes(e.correlation_id);
  int rc = amqp_basic_publish(conn_, channel, bytes(cfg_.exchange), amqp_empty_bytes,
                              /*mandatory=*/1, /*immediate=*/0, &props, bytes(e.payload));
  if (rc != AMQP_STATUS_OK)
    fail(std::string{"basic.publish: "} + amqp_error_string2(rc));
}

void amqp_publisher::send(const std::vector<outbox_event>& events) {
  if (events.empty())
    return;
  batch b{next_tag_, {}, std::vector<int>(events.size(), unsettled), events.size(),
          std::chrono::steady_clock::now() + cfg_.confirm_timeout};
  b.ids.reserve(events.size());
  for (auto& e : events) {
    send_one(e);
    b.ids.push_back(e.id);
  }
  next_tag_ += events.size();
  batches_.push_back(std::move(b));
}

id_range amqp_publisher::in_flight_ids() const {
  if (batches_.empty())
    return {};
  id_range span{batches_.front().ids.front(), batches_.front().ids.back()};
  for (auto& b : batches_) {
    span.first = std::min(span.first, b.ids.front());
    span.last = std::max(span.last, b.ids.back());
  }
  return span;
}

publish_outcome amqp_publisher::settle_oldest() {
  auto& oldest = batches_.front();
  while (oldest.unsettled > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      oldest.deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !read_frame(to_timeval(left)))
      fail(std::to_string(oldest.unsettled) + " of " + std::to_string(oldest.ids.size())
           + " publishes not confirmed within " + std::to_string(cfg_.confirm_timeout.count())
           + "ms");
  }
  publish_outcome out;
  for (std::size_t i = 0; i < oldest.ids.size(); ++i)
    if (oldest.state[i] == acked)
      out.confirmed.push_back(oldest.ids[i]);
    else
      ++out.nacked;
  out.returned = std::exchange(returned_, 0);
  batches_.pop_front();
  amqp_maybe_release_buffers(conn_);
  return out;
}

void amqp_publisher::settle(std::uint64_t tag, bool multiple, int how) {
  for (auto& b : batches_) {
    auto last = b.first_tag + b.ids.size() - 1;
    auto from = multiple ? b.first_tag : std::max(tag, b.first_tag);
    for (auto t = from; t <= std::min(tag, last); ++t)
      if (b.state[t - b.first_tag] == unsettled) {
        b.state[t - b.first_tag] = how;
        --b.unsettled;
      }
  }
}

bool amqp_publisher::read_frame(const timeval& wait) {
  amqp_frame_t frame;
  timeval tv = wait;
  int rc = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
  if (rc == AMQP_STATUS_TIMEOUT)
    return false;
  if (rc != AMQP_STATUS_OK)
    fail(std::string{"waiting for confirms: "} + amqp_error_string2(rc));
  if (frame.frame_type != AMQP_FRAME_METHOD)
    return true;
  switch (frame.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      settle(m->delivery_tag, m->multiple, acked);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* m = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
      settle(m->delivery_tag, m->multiple, nacked);
      break;
    }
    case AMQP_BASIC_RETURN_METHOD: handle_return(frame.channel); break;
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD: {
      amqp_rpc_reply_t r{AMQP_RESPONSE_SERVER_EXCEPTION, frame.payload.method, 0};
      fail(describe(r));
    }
    default: break;
  }
  return true;
}

void amqp_publisher::handle_return(std::uint16_t ch) {
  // The returned message's header and body follow the method frame.
  amqp_message_t msg;
  auto r = amqp_read_message(conn_, ch, &msg, 0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL)
    fail("reading a returned message: " + describe(r));
  auto property = [&msg](amqp_flags_t flag, const amqp_bytes_t& value) {
    if (!(msg.properties._flags & flag))
      return std::string{};
    return std::string(static_cast<char*>(value.bytes), value.len);
  };
  auto id = property(AMQP_BASIC_MESSAGE_ID_FLAG, msg.properties.message_id);
  auto request_id = property(AMQP_BASIC_CORRELATION_ID_FLAG, msg.properties.correlation_id);
  amqp_destroy_message(&msg);
  ++returned_;
  actors::log::warn(log_name, "event_unroutable",
                    {{"message_id", id}, {"request_id", request_id}, {"exchange", cfg_.exchange},
                     {"why", "no queue bound; the Commands Service's gRPC sync covers it"}});
}

void amqp_publisher::keep_alive() {
  amqp_frame_t frame;
  timeval zero{0, 0};
  int rc = amqp_simple_wait_frame_noblock(conn_, &frame, &zero);
  if (rc == AMQP_STATUS_TIMEOUT)
    return;
  if (rc != AMQP_STATUS_OK)
    fail(std::string{"idle connection: "} + amqp_error_string2(rc));
  if (frame.frame_type == AMQP_FRAME_METHOD
      && (frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD
          || frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD))
    fail(describe({AMQP_RESPONSE_SERVER_EXCEPTION, frame.payload.method, 0}));
}

} // namespace platform
