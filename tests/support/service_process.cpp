#include "service_process.hpp"

#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <thread>

namespace platform_it {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("bind for a free port failed");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

service_process::service_process(const service_options& options)
  : http_port_(free_port()), grpc_port_(free_port()) {
  auto& pg = support::postgres();
  auto& mq = support::rabbitmq();
  if (options.fresh_database)
    pg.create_database(options.database);
  std::vector<std::string> argv = {
    PLATFORM_SERVICE_BIN,
    "--HttpPort=" + std::to_string(http_port_),
    "--GrpcPort=" + std::to_string(grpc_port_),
    "--ConnectionStrings__PlatformsConn=" + pg.connection_string(options.database),
    "--RabbitMQHost=" + mq.host(),
    "--RabbitMQPort=" + std::to_string(mq.port()),
    "--RabbitMQUser=" + mq.user(),
    "--RabbitMQPassword=" + mq.password(),
  };
  if (!options.command_client)
    argv.push_back("--CommandServiceEnabled=false");
  for (auto& f : options.extra_flags)
    argv.push_back(f);
  process_ = std::make_unique<support::child_process>(argv);
}

service_process::~service_process() {
  if (!process_->wait_exit(std::chrono::milliseconds(0)))
    stop();
}

httplib::Client service_process::http() const {
  httplib::Client c{"127.0.0.1", http_port_};
  c.set_connection_timeout(std::chrono::seconds(5));
  c.set_read_timeout(std::chrono::seconds(10));
  return c;
}

bool service_process::wait_ready(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (process_->wait_exit(std::chrono::milliseconds(0)))
      return false;
    auto c = http();
    c.set_read_timeout(std::chrono::seconds(2));
    if (auto r = c.Get("/readyz"); r && r->status == 200)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::optional<int> service_process::stop() {
  process_->signal(SIGTERM);
  return process_->wait_exit(std::chrono::seconds(20));
}

double service_process::metric(const std::string& series) {
  auto r = http().Get("/metrics");
  if (!r)
    return 0;
  auto at = r->body.find("\n" + series + " ");
  if (at == std::string::npos)
    return 0;
  return std::stod(r->body.substr(at + series.size() + 2));
}

namespace {

void check(amqp_rpc_reply_t r, const char* what) {
  if (r.reply_type != AMQP_RESPONSE_NORMAL)
    throw std::runtime_error(std::string{"amqp "} + what + " failed");
}

amqp_connection_state_t connect(const support::rabbitmq_server& broker) {
  auto conn = amqp_new_connection();
  auto* socket = amqp_tcp_socket_new(conn);
  if (amqp_socket_open(socket, broker.host().c_str(), broker.port()) != 0) {
    amqp_destroy_connection(conn);
    throw std::runtime_error("amqp connect failed");
  }
  check(amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, broker.user().c_str(),
                   broker.password().c_str()),
        "login");
  amqp_channel_open(conn, 1);
  check(amqp_get_rpc_reply(conn), "channel.open");
  return conn;
}

void declare(amqp_connection_state_t conn, const std::string& queue, const std::string& exchange) {
  amqp_exchange_declare(conn, 1, amqp_cstring_bytes(exchange.c_str()),
                        amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(conn), "exchange.declare");
  amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(conn), "queue.declare");
  amqp_queue_bind(conn, 1, amqp_cstring_bytes(queue.c_str()), amqp_cstring_bytes(exchange.c_str()),
                  amqp_empty_bytes, amqp_empty_table);
  check(amqp_get_rpc_reply(conn), "queue.bind");
}

std::string text(amqp_bytes_t b) {
  return {static_cast<char*>(b.bytes), b.len};
}

} // namespace

void prepare_queue(const support::rabbitmq_server& broker, const std::string& queue,
                   const std::string& exchange) {
  auto conn = connect(broker);
  declare(conn, queue, exchange);
  amqp_queue_purge(conn, 1, amqp_cstring_bytes(queue.c_str()));
  check(amqp_get_rpc_reply(conn), "queue.purge");
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
}

queue_reader::queue_reader(const support::rabbitmq_server& broker, const std::string& queue,
                           const std::string& exchange)
  : conn_(connect(broker)), queue_(queue) {
  declare(conn_, queue, exchange);
}

queue_reader::~queue_reader() {
  amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn_);
}

std::vector<received> queue_reader::take(std::size_t count, std::chrono::milliseconds deadline) {
  if (!consuming_) {
    amqp_basic_consume(conn_, 1, amqp_cstring_bytes(queue_.c_str()), amqp_empty_bytes, 0,
                       /*no_ack=*/1, 0, amqp_empty_table);
    check(amqp_get_rpc_reply(conn_), "basic.consume");
    consuming_ = true;
  }
  std::vector<received> out;
  auto until = std::chrono::steady_clock::now() + deadline;
  while (out.size() < count && std::chrono::steady_clock::now() < until) {
    amqp_envelope_t env;
    timeval tv{0, 200'000};
    amqp_maybe_release_buffers(conn_);
    auto r = amqp_consume_message(conn_, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
      continue;
    check(r, "consume");
    auto& p = env.message.properties;
    received m;
    m.body = text(env.message.body);
    if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
      m.message_id = text(p.message_id);
    if (p._flags & AMQP_BASIC_TYPE_FLAG)
      m.type = text(p.type);
    if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
      m.content_type = text(p.content_type);
    if (p._flags & AMQP_BASIC_CORRELATION_ID_FLAG)
      m.correlation_id = text(p.correlation_id);
    if (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
      m.delivery_mode = p.delivery_mode;
    amqp_destroy_envelope(&env);
    out.push_back(std::move(m));
  }
  return out;
}

} // namespace platform_it
