#include "shared/amqp/connection.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <sys/time.h>

#include <utility>
#include <vector>

namespace shared::amqp {
namespace {

constexpr amqp_channel_t channel = 1;

amqp_bytes_t bytes(std::string_view text) {
  return {text.size(), const_cast<char*>(text.data())};
}

std::string text(amqp_bytes_t b) {
  return {static_cast<const char*>(b.bytes), b.len};
}

timeval to_timeval(std::chrono::milliseconds d) {
  if (d.count() < 0)
    d = std::chrono::milliseconds{0};
  return {static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>(d.count() % 1000 * 1000)};
}

amqp_table_entry_t utf8_entry(const char* key, const std::string& value) {
  amqp_table_entry_t e{};
  e.key = amqp_cstring_bytes(key);
  e.value.kind = AMQP_FIELD_KIND_UTF8;
  e.value.value.bytes = bytes(value);
  return e;
}

amqp_table_t table(std::vector<amqp_table_entry_t>& entries) {
  return {static_cast<int>(entries.size()), entries.empty() ? nullptr : entries.data()};
}

amqp_table_entry_t bool_entry(const char* key, bool value) {
  amqp_table_entry_t e{};
  e.key = amqp_cstring_bytes(key);
  e.value.kind = AMQP_FIELD_KIND_BOOLEAN;
  e.value.value.boolean = value;
  return e;
}

amqp_table_entry_t table_entry(const char* key, amqp_table_t value) {
  amqp_table_entry_t e{};
  e.key = amqp_cstring_bytes(key);
  e.value.kind = AMQP_FIELD_KIND_TABLE;
  e.value.value.table = value;
  return e;
}

std::string server_close_text(uint16_t code, amqp_bytes_t reply) {
  return std::to_string(code) + " " + text(reply);
}

// Why a reply failed: its text, and the server's reply code when it closed.
struct failure {
  std::string text;
  std::uint16_t reply_code = 0;
};

// The failure of a reply, or nothing when it succeeded. A close from the
// server is answered with close-ok, as the protocol asks.
std::optional<failure> failure_of(amqp_connection_state_t conn, const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return std::nullopt;
    case AMQP_RESPONSE_NONE:
      return failure{"no reply (missing RPC reply type)"};
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return failure{amqp_error_string2(r.library_error)};
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        return failure{"connection closed by server: " + server_close_text(m->reply_code, m->reply_text),
                       m->reply_code};
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        amqp_channel_close_ok_t ok{};
        amqp_send_method(conn, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        return failure{"channel closed by server: " + server_close_text(m->reply_code, m->reply_text),
                       m->reply_code};
      }
      return failure{"unexpected server method " + std::to_string(r.reply.id)};
  }
  return failure{"unknown reply type"};
}

properties properties_of(const amqp_basic_properties_t& p) {
  properties out;
  auto field = [&](amqp_flags_t flag, amqp_bytes_t value) {
    return (p._flags & flag) ? text(value) : std::string{};
  };
  out.message_id = field(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
  out.content_type = field(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
  out.type = field(AMQP_BASIC_TYPE_FLAG, p.type);
  out.correlation_id = field(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
  out.persistent = (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) && p.delivery_mode == 2;
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
    for (int i = 0; i < p.headers.num_entries; ++i) {
      auto& e = p.headers.entries[i];
      if (e.value.kind == AMQP_FIELD_KIND_UTF8 || e.value.kind == AMQP_FIELD_KIND_BYTES)
        out.headers.emplace(text(e.key), text(e.value.value.bytes));
    }
  }
  return out;
}

} // namespace

const char* to_string(confirm_status status) {
  switch (status) {
    case confirm_status::acked: return "acked";
    case confirm_status::nacked: return "nacked";
    case confirm_status::returned: return "returned";
  }
  return "unknown";
}

const char* to_string(queue_type type) {
  return type == queue_type::quorum ? "quorum" : "classic";
}

connection::connection(connection_options options) : options_(std::move(options)) {
  std::vector<broker_address> addresses{{options_.host, options_.port}};
  addresses.insert(addresses.end(), options_.fallbacks.begin(), options_.fallbacks.end());
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    peer_ = addresses[i].host + ":" + std::to_string(addresses[i].port);
    conn_ = amqp_new_connection();
    if (!conn_)
      throw error("amqp " + peer_ + ": out of memory creating a connection");
    try {
      open(addresses[i]);
      return;
    } catch (const error& e) {
      amqp_destroy_connection(conn_);
      conn_ = nullptr;
      if (e.reply_code() != 0 || i + 1 == addresses.size())
        throw;
    }
  }
}

void connection::open(const broker_address& address) {
  auto* socket = amqp_tcp_socket_new(conn_);
  if (!socket)
    fail("connect", "", "cannot create a TCP socket");
  auto tv = to_timeval(options_.timeout);
  if (auto s = amqp_socket_open_noblock(socket, address.host.c_str(), address.port, &tv);
      s != AMQP_STATUS_OK)
    fail("connect", "", amqp_error_string2(s));
  amqp_set_handshake_timeout(conn_, &tv);
  amqp_set_rpc_timeout(conn_, &tv);
  // The capability makes the broker tell us when it blocks our publishes.
  std::vector<amqp_table_entry_t> capabilities{bool_entry("connection.blocked", true)};
  std::vector<amqp_table_entry_t> client{utf8_entry("connection_name", options_.name),
                                         table_entry("capabilities", table(capabilities))};
  auto client_properties = table(client);
  auto login = amqp_login_with_properties(
    conn_, options_.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE,
    static_cast<int>(options_.heartbeat.count()), &client_properties, AMQP_SASL_METHOD_PLAIN,
    options_.user.c_str(), options_.password.c_str());
  if (auto f = failure_of(conn_, login))
    fail("login", options_.user, f->text, f->reply_code);
  amqp_channel_open(conn_, channel);
  check_reply("channel.open", "");
  healthy_ = true;
}

connection::~connection() {
  if (healthy_) {
    amqp_channel_close(conn_, channel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn_);
}

void connection::check_reply(const char* operation, const std::string& subject) {
  if (auto f = failure_of(conn_, amqp_get_rpc_reply(conn_)))
    fail(operation, subject, f->text, f->reply_code);
}

void connection::fail(const char* operation, const std::string& subject, const std::string& what,
                      std::uint16_t reply_code) {
  healthy_ = false;
  std::string msg = "amqp " + peer_ + ": " + operation;
  if (!subject.empty())
    msg += " \"" + subject + "\"";
  throw error(msg + ": " + what, reply_code);
}

void connection::declare_exchange(const std::string& name, const exchange_options& options) {
  std::vector<amqp_table_entry_t> args;
  for (auto& [key, value] : options.arguments)
    args.push_back(utf8_entry(key.c_str(), value));
  amqp_exchange_declare(conn_, channel, bytes(name), bytes(options.type), 0, options.durable,
                        options.auto_delete, 0, table(args));
  check_reply("exchange.declare", name);
}

std::string connection::declare_queue(const std::string& name, const queue_options& options) {
  std::vector<amqp_table_entry_t> args;
  static const std::string quorum = to_string(queue_type::quorum); // the table points into it
  if (options.type == queue_type::quorum)
    args.push_back(utf8_entry("x-queue-type", quorum));
  if (!options.dead_letter_exchange.empty())
    args.push_back(utf8_entry("x-dead-letter-exchange", options.dead_letter_exchange));
  if (options.dead_letter_routing_key)
    args.push_back(utf8_entry("x-dead-letter-routing-key", *options.dead_letter_routing_key));
  auto* ok = amqp_queue_declare(conn_, channel, bytes(name), 0, options.durable, options.exclusive,
                                options.auto_delete, table(args));
  check_reply("queue.declare", name);
  return text(ok->queue);
}

void connection::bind_queue(const std::string& queue, const std::string& exchange,
                            const std::string& routing_key) {
  amqp_queue_bind(conn_, channel, bytes(queue), bytes(exchange), bytes(routing_key),
                  amqp_empty_table);
  check_reply("queue.bind", queue + " -> " + exchange);
}

void connection::qos(std::uint16_t prefetch_count) {
  amqp_basic_qos(conn_, channel, 0, prefetch_count, 0);
  check_reply("basic.qos", std::to_string(prefetch_count));
}

std::uint32_t connection::purge_queue(const std::string& queue) {
  auto* ok = amqp_queue_purge(conn_, channel, bytes(queue));
  check_reply("queue.purge", queue);
  return ok->message_count;
}

std::uint32_t connection::delete_queue(const std::string& queue) {
  auto* ok = amqp_queue_delete(conn_, channel, bytes(queue), 0, 0);
  check_reply("queue.delete", queue);
  return ok->message_count;
}

std::string connection::consume(const std::string& queue) {
  auto* ok = amqp_basic_consume(conn_, channel, bytes(queue), amqp_empty_bytes, 0, 0, 0,
                                amqp_empty_table);
  check_reply("basic.consume", queue);
  return text(ok->consumer_tag);
}

std::optional<delivery> connection::next(std::chrono::milliseconds timeout) {
  amqp_maybe_release_buffers(conn_);
  amqp_envelope_t env;
  auto tv = to_timeval(timeout);
  auto r = amqp_consume_message(conn_, &env, &tv, 0);
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    if (r.library_error == AMQP_STATUS_TIMEOUT)
      return std::nullopt;
    if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      // Another method (a close, a cancel) is waiting: read it.
      read_frame(timeout, "consume");
      return std::nullopt;
    }
  }
  if (auto f = failure_of(conn_, r))
    fail("consume", "", f->text, f->reply_code);
  delivery d;
  d.delivery_tag = env.delivery_tag;
  d.redelivered = env.redelivered;
  d.exchange = text(env.exchange);
  d.routing_key = text(env.routing_key);
  d.body = text(env.message.body);
  d.props = properties_of(env.message.properties);
  amqp_destroy_envelope(&env);
  return d;
}

void connection::ack(std::uint64_t delivery_tag, bool multiple) {
  if (auto s = amqp_basic_ack(conn_, channel, delivery_tag, multiple); s != AMQP_STATUS_OK)
    fail("basic.ack", std::to_string(delivery_tag).append(multiple ? " (multiple)" : ""),
         amqp_error_string2(s));
}

void connection::reject(std::uint64_t delivery_tag, bool requeue) {
  if (auto s = amqp_basic_reject(conn_, channel, delivery_tag, requeue); s != AMQP_STATUS_OK)
    fail("basic.reject", std::to_string(delivery_tag), amqp_error_string2(s));
}

void connection::enable_confirms() {
  amqp_confirm_select(conn_, channel);
  check_reply("confirm.select", "");
  confirms_ = true;
}

std::uint64_t connection::publish(const std::string& exchange, const std::string& routing_key,
                                  std::string_view body, const properties& props,
                                  bool mandatory) {
  amqp_basic_properties_t p{};
  auto set = [&](amqp_flags_t flag, amqp_bytes_t& field, const std::string& value) {
    if (!value.empty()) {
      p._flags |= flag;
      field = bytes(value);
    }
  };
  set(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id, props.message_id);
  set(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type, props.content_type);
  set(AMQP_BASIC_TYPE_FLAG, p.type, props.type);
  set(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id, props.correlation_id);
  p._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
  p.delivery_mode = props.persistent ? 2 : 1;
  std::vector<amqp_table_entry_t> headers;
  for (auto& [key, value] : props.headers) {
    amqp_table_entry_t e{};
    e.key = bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = bytes(value);
    headers.push_back(e);
  }
  if (!headers.empty()) {
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
    p.headers.num_entries = static_cast<int>(headers.size());
    p.headers.entries = headers.data();
  }
  auto s = amqp_basic_publish(conn_, channel, bytes(exchange), bytes(routing_key), mandatory, 0,
                              &p, bytes(body));
  if (s != AMQP_STATUS_OK)
    fail("basic.publish", exchange, amqp_error_string2(s));
  if (!confirms_)
    return 0;
  auto sequence = next_sequence_++;
  pending_.emplace(sequence, props.message_id);
  return sequence;
}

std::map<std::uint64_t, confirm_status>
connection::wait_for_confirms(std::chrono::milliseconds timeout, std::uint64_t up_to) {
  // A publisher never calls next(): free the frame buffers read so far here.
  amqp_maybe_release_buffers(conn_);
  if (pending_.empty())
    keep_alive();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pending_.empty() && pending_.begin()->first <= up_to) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !read_frame(left, "wait_for_confirms"))
      break;
  }
  return std::exchange(settled_, {});
}

void connection::keep_alive() {
  while (read_frame(std::chrono::milliseconds{0}, "keep_alive")) {
  }
}

bool connection::read_frame(std::chrono::milliseconds timeout, const char* operation) {
  amqp_frame_t frame;
  auto tv = to_timeval(timeout);
  auto s = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
  if (s == AMQP_STATUS_TIMEOUT)
    return false;
  if (s != AMQP_STATUS_OK)
    fail(operation, "", amqp_error_string2(s));
  handle_frame(frame);
  return true;
}

void connection::handle_frame(const amqp_frame_t& frame) {
  if (frame.frame_type != AMQP_FRAME_METHOD)
    return; // heartbeats are handled by the library
  auto& method = frame.payload.method;
  switch (method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* m = static_cast<amqp_basic_ack_t*>(method.decoded);
      return settle(m->delivery_tag, m->multiple, confirm_status::acked);
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* m = static_cast<amqp_basic_nack_t*>(method.decoded);
      return settle(m->delivery_tag, m->multiple, confirm_status::nacked);
    }
    case AMQP_BASIC_RETURN_METHOD: {
      // The returned message follows; its ack comes after it.
      amqp_message_t msg;
      auto r = amqp_read_message(conn_, frame.channel, &msg, 0);
      if (auto f = failure_of(conn_, r))
        fail("basic.return", "", f->text, f->reply_code);
      returned_ids_[properties_of(msg.properties).message_id] = true;
      amqp_destroy_message(&msg);
      return;
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
      auto* m = static_cast<amqp_channel_close_t*>(method.decoded);
      amqp_channel_close_ok_t ok{};
      amqp_send_method(conn_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      fail("channel", "", "closed by server: " + server_close_text(m->reply_code, m->reply_text),
           m->reply_code);
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      auto* m = static_cast<amqp_connection_close_t*>(method.decoded);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      fail("connection", "", "closed by server: " + server_close_text(m->reply_code, m->reply_text),
           m->reply_code);
    }
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      auto* m = static_cast<amqp_connection_blocked_t*>(method.decoded);
      blocked_ = text(m->reason);
      return;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      blocked_.reset();
      return;
    case AMQP_BASIC_CANCEL_METHOD:
      fail("consume", "", "consumer cancelled by server (queue deleted?)");
    case AMQP_BASIC_DELIVER_METHOD:
      fail("wait_for_confirms", "", "a delivery arrived: do not consume on a publishing connection");
    default:
      return;
  }
}

void connection::settle(std::uint64_t tag, bool multiple, confirm_status status) {
  auto settle_one = [&](std::map<std::uint64_t, std::string>::iterator i) {
    auto s = status;
    if (auto r = returned_ids_.find(i->second); r != returned_ids_.end()) {
      if (s == confirm_status::acked)
        s = confirm_status::returned;
      returned_ids_.erase(r);
    }
    settled_[i->first] = s;
    return pending_.erase(i);
  };
  if (!multiple) {
    if (auto i = pending_.find(tag); i != pending_.end())
      settle_one(i);
    return;
  }
  for (auto i = pending_.begin(); i != pending_.end() && i->first <= tag;)
    i = settle_one(i);
}

} // namespace shared::amqp
