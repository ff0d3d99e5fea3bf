#include "config.hpp"

#include <limits>

namespace platform {

config read_config(actors::settings& s) {
  config c;
  c.repository.database = s.connection_string(
    "ConnectionStrings__PlatformsConn",
    "host=127.0.0.1 port=5432 dbname=platforms user=postgres connect_timeout=3",
    "PostgreSQL connection string");
  c.repository.pool_size = static_cast<std::size_t>(
    s.integer("DatabasePoolSize", 4, 1, 64, "repository actors, one database session each"));
  c.repository.cache_size = static_cast<std::size_t>(
    s.integer("PlatformCacheSize", 10'000, 0, 10'000'000,
              "platforms by id kept in memory (they never change); 0 = off"));
  c.repository.cache_bytes = static_cast<std::size_t>(
    s.integer("PlatformCacheBytes", 4 << 20, 0, std::int64_t{16} << 30,
              "memory the by-id cache may take, strings included; 0 = off"));

  c.rest = shared::http::read_rest_config(s, 5000);

  c.grpc.port = s.port("GrpcPort", 5001, "gRPC listen port (666 in the course's cluster)");
  c.grpc.certificate_file = s.optional_text("GrpcCertificate", "PEM certificate file: enables TLS");
  c.grpc.private_key_file = s.optional_text("GrpcPrivateKey", "PEM private key file for TLS");
  c.grpc.max_message_bytes = static_cast<std::size_t>(
    s.integer("GrpcMaxMessageBytes", 64 << 20, 64 << 10, std::numeric_limits<std::int32_t>::max(),
              "largest gRPC message received or sent; GetAllPlatforms answers the whole "
              "catalogue in one (RESOURCE_EXHAUSTED past it), StreamAllPlatforms in pages"));

  c.relay.database = c.repository.database;
  c.relay.broker = shared::amqp::read_broker_config(s, "platform-service");
  c.relay.batch_size = static_cast<std::size_t>(
    s.integer("OutboxBatchSize", 2'000, 1, 10'000, "events published per confirm round"));
  c.relay.batches_in_flight = static_cast<std::size_t>(
    s.integer("OutboxBatchesInFlight", 8, 1, 16,
              "batches published before the oldest one's confirms are awaited"));
  c.relay.poll_interval = s.duration("OutboxPollInterval", c.relay.poll_interval,
                                     "how often the relay looks for pending events "
                                     "(each commit wakes it at once; this is the safety net)");
  c.relay.wake_linger = s.duration("OutboxWakeLinger", c.relay.wake_linger,
                                   "with batches in flight, the least time between two looks for "
                                   "pending events (a look from idle is at once)");
  c.relay.confirm_timeout = s.duration("OutboxConfirmTimeout", c.relay.confirm_timeout,
                                       "wait for publisher confirms before failing");
  c.relay.lease = s.duration("OutboxLeaderLease", c.relay.lease,
                             "a relay leader whose database session is silent this long loses "
                             "the relay lock, and a standby takes over");
  if (c.relay.lease <= c.relay.confirm_timeout + std::chrono::seconds{1})
    s.reject("OutboxLeaderLease", std::to_string(c.relay.lease.count()) + "ms",
             "must exceed OutboxConfirmTimeout by more than 1s (a healthy leader waits that long)");
  c.relay.retention = s.duration("OutboxRetention", c.relay.retention,
                                 "published outbox rows are deleted once this old (168h: 7 days)");
  c.relay.refusals.max_event_bytes = static_cast<std::size_t>(s.integer(
    "OutboxMaxEventBytes", static_cast<std::int64_t>(c.relay.refusals.max_event_bytes), 64,
    512 * 1024 * 1024,
    "larger events are parked, not published (RabbitMQ 4 refuses messages over 16 MiB)"));

  c.command_client.url = s.text("CommandService", "http://localhost:6000/api/c/platforms",
                                "URL the platform is POSTed to after a create");
  c.command_client.enabled = s.boolean("CommandServiceEnabled", true,
                                       "POST each created platform to CommandService");
  c.command_client.timeout = s.duration("CommandServiceTimeout", c.command_client.timeout,
                                        "connect and read timeout of that POST");
  if (c.grpc.certificate_file.empty() != c.grpc.private_key_file.empty())
    s.reject("GrpcPrivateKey", c.grpc.private_key_file,
             "GrpcCertificate and GrpcPrivateKey go together: give both for TLS, or neither");
  return c;
}

} // namespace platform
