#include "config.hpp"

namespace platform {

namespace {

std::chrono::seconds whole_seconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d);
}

} // namespace

config read_config(actors::settings& s) {
  config c;
  c.repository.database = s.connection_string(
    "ConnectionStrings__PlatformsConn",
    "host=127.0.0.1 port=5432 dbname=platforms user=postgres connect_timeout=3",
    "PostgreSQL connection string");
  c.repository.pool_size = static_cast<std::size_t>(
    s.integer("DatabasePoolSize", 4, 1, 64, "repository actors, one database session each"));
  c.repository.cache_size = static_cast<std::size_t>(
    s.integer("PlatformCacheSize", 100'000, 0, 10'000'000,
              "platforms by id kept in memory (they never change); 0 = off"));

  c.http.port = s.port("HttpPort", 5000, "REST API listen port");
  c.http.server.max_connections = static_cast<std::size_t>(
    s.integer("HttpMaxConnections", 256, 1, 4096, "keep-alive connections served at once"));
  c.http.server.max_body = static_cast<std::size_t>(
    s.integer("HttpMaxBodyBytes", 64 * 1024, 1, 64 * 1024 * 1024, "larger bodies get 413"));
  c.http.request_timeout = s.duration("DatabaseTimeout", c.http.request_timeout,
                                      "deadline for a request's database work; then 503");

  c.grpc.port = s.port("GrpcPort", 5001, "gRPC listen port (666 in the course's cluster)");
  c.grpc.certificate_file = s.optional_text("GrpcCertificate", "PEM certificate file: enables TLS");
  c.grpc.private_key_file = s.optional_text("GrpcPrivateKey", "PEM private key file for TLS");

  c.relay.database = c.repository.database;
  c.relay.host = s.text("RabbitMQHost", "localhost", "RabbitMQ host");
  c.relay.port = s.port("RabbitMQPort", 5672, "RabbitMQ AMQP port");
  c.relay.user = s.text("RabbitMQUser", "guest", "RabbitMQ user");
  c.relay.password = s.secret("RabbitMQPassword", "guest", "RabbitMQ password");
  c.relay.durable_exchange = s.boolean(
    "RabbitMQDurableExchange", true,
    "declare exchange trigger durable; false = the course's non-durable declaration");
  c.relay.heartbeat = whole_seconds(
    s.duration("RabbitMQHeartbeat", std::chrono::seconds(10), "AMQP heartbeat interval"));
  c.relay.batch_size = static_cast<std::size_t>(
    s.integer("OutboxBatchSize", 2'000, 1, 10'000, "events published per confirm round"));
  c.relay.batches_in_flight = static_cast<std::size_t>(
    s.integer("OutboxBatchesInFlight", 2, 1, 16,
              "batches published before the oldest one's confirms are awaited"));
  c.relay.poll_interval = s.duration("OutboxPollInterval", c.relay.poll_interval,
                                     "how often the relay looks for pending events");
  c.relay.confirm_timeout = s.duration("OutboxConfirmTimeout", c.relay.confirm_timeout,
                                       "wait for publisher confirms before failing");

  c.command_client.url = s.text("CommandService", "http://localhost:6000/api/c/platforms",
                                "URL the platform is POSTed to after a create");
  c.command_client.enabled = s.boolean("CommandServiceEnabled", true,
                                       "POST each created platform to CommandService");
  c.command_client.timeout = s.duration("CommandServiceTimeout", c.command_client.timeout,
                                        "connect and read timeout of that POST");
  if (c.grpc.certificate_file.empty() != c.grpc.private_key_file.empty())
    s.reject("GrpcPrivateKey", c.grpc.private_key_file,
             "GrpcCertificate and GrpcPrivateKey go together: give both for TLS, or neither");
  if (c.relay.heartbeat.count() < 1)
    s.reject("RabbitMQHeartbeat", std::to_string(c.relay.heartbeat.count()) + "s",
             "must be at least 1s");
  return c;
}

} // namespace platform
