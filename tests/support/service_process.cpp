#include "service_process.hpp"

#include "contract_recording.hpp"

#include <amqp_options.hpp>
#include <shared/amqp/connection.hpp>
#include <shared/amqp/topology.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <thread>
#include <utility>

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
  auto& mq = options.broker ? *options.broker : support::rabbitmq();
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
  support::record_responses(c);
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

std::unique_ptr<shared::amqp::connection> connect(const support::rabbitmq_server& broker) {
  auto options = support::amqp_options(broker, "platform_it");
  // Tests leave a reader idle between takes for longer than two heartbeats.
  options.heartbeat = std::chrono::seconds(0);
  return std::make_unique<shared::amqp::connection>(std::move(options));
}

void declare(shared::amqp::connection& conn, const std::string& queue,
             const std::string& exchange) {
  shared::amqp::broker_config broker;
  broker.exchange = exchange;
  shared::amqp::declare_trigger(conn, broker); // as the services declare it
  conn.declare_queue(queue);                   // durable
  conn.bind_queue(queue, exchange);
}

} // namespace

void prepare_queue(const support::rabbitmq_server& broker, const std::string& queue,
                   const std::string& exchange) {
  auto conn = connect(broker);
  declare(*conn, queue, exchange);
  conn->purge_queue(queue);
}

queue_reader::queue_reader(const support::rabbitmq_server& broker, const std::string& queue,
                           const std::string& exchange)
  : conn_(connect(broker)), queue_(queue) {
  declare(*conn_, queue, exchange);
}

queue_reader::queue_reader(queue_reader&&) noexcept = default;
queue_reader::~queue_reader() = default;

queue_reader queue_reader::emptied(const support::rabbitmq_server& broker,
                                   const std::string& queue) {
  queue_reader reader{broker, queue};
  reader.conn_->purge_queue(queue);
  return reader;
}

std::vector<received> queue_reader::take(std::size_t count, std::chrono::milliseconds deadline) {
  if (!consuming_) {
    conn_->consume(queue_);
    consuming_ = true;
  }
  std::vector<received> out;
  auto until = std::chrono::steady_clock::now() + deadline;
  while (out.size() < count && std::chrono::steady_clock::now() < until) {
    auto d = conn_->next(std::chrono::milliseconds(200));
    if (!d)
      continue;
    auto& p = d->props;
    out.push_back({d->body, p.message_id, p.type, p.content_type, p.correlation_id,
                   p.persistent ? 2 : 1, p.headers["traceparent"]});
    conn_->ack(d->delivery_tag);
  }
  return out;
}

} // namespace platform_it
