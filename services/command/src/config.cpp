#include "config.hpp"

#include <fstream>
#include <limits>
#include <sstream>

namespace command {
namespace {

// GrpcPlatformCaFile's word for gRPC's default roots, which on Linux are the
// system's trust store (/etc/ssl/certs).
constexpr const char* system_trust_store = "system";

std::string read_file(const std::string& setting, const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw actors::settings_error(setting + ": cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void read_bus(actors::settings& s, subscriber_config& c, event_processor_config& processor) {
  c.broker = shared::amqp::read_broker_config(s, "command-service");
  c.queue = s.text("RabbitMQQueue", "command-service",
                   "durable queue bound to `trigger`; rejects go to <queue>.dlx -> <queue>.dead");
  c.prefetch = static_cast<std::uint16_t>(
    s.integer("RabbitMQPrefetch", 256, 1, 65535, "events in flight at once"));
  c.event_timeout = s.duration("EventTimeout", c.event_timeout,
                               "longest wait for an event to be committed before reconnecting");
  processor.max_event_bytes = static_cast<std::size_t>(
    s.integer("RabbitMQMaxEventBytes", 64 * 1024, 64, 128 * 1024 * 1024,
              "events larger than this are dead-lettered without being parsed"));
}

void read_sync(actors::settings& s, platform_sync_config& c) {
  auto address = s.text("GrpcPlatform", "http://localhost:666",
                        "Platform Service gRPC address (http://, https:// or host:port)");
  auto ca_file = s.text("GrpcPlatformCaFile", system_trust_store,
                        "roots for an https:// address: `system` (the system's trust store, "
                        "as gRPC loads it) or a PEM file");
  c.interval = s.duration("PlatformSyncInterval", c.interval, "time between full platform syncs");
  c.deadline = s.duration("GrpcDeadline", c.deadline,
                          "deadline of each gRPC call; for StreamAllPlatforms, of each page");
  c.max_message_bytes = static_cast<std::size_t>(
    s.integer("GrpcPlatformMaxMessageBytes", 64 << 20, 64 << 10,
              std::numeric_limits<std::int32_t>::max(),
              "largest gRPC message accepted from GrpcPlatform (the course's GetAllPlatforms, "
              "used when the peer has no StreamAllPlatforms, answers the whole catalogue in one)"));
  auto target = parse_grpc_address(address);
  if (!target)
    return s.reject("GrpcPlatform", address, "has no host:port");
  c.target = *target;
  if (c.target.tls && ca_file != system_trust_store)
    c.ca_pem = read_file("GrpcPlatformCaFile", ca_file);
}

} // namespace

config read_config(actors::settings& s) {
  config c;
  c.database = s.connection_string("ConnectionStrings__CommandsConn", ":memory:",
                                   "a PostgreSQL connection string (deployments: the "
                                   "commands database), sqlite:<file>, or \":memory:\" "
                                   "(development: SQLite in memory, commands are forgotten "
                                   "at every restart)");
  c.rest = shared::http::read_rest_config(s, 6000);
  c.processor.repository_timeout = c.rest.request_timeout;
  c.sync.repository_timeout = c.rest.request_timeout;
  read_bus(s, c.subscriber, c.processor);
  read_sync(s, c.sync);
  return c;
}

} // namespace command
