#include "config.hpp"

namespace command {

config read_config(actors::settings& s) {
  config c;
  c.http_port = s.port("HttpPort", 6000, "REST API listen port");
  c.database = s.connection_string("ConnectionStrings__CommandsConn", ":memory:",
                                   "\":memory:\" (SQLite in memory) or a PostgreSQL string");
  c.rabbitmq_host = s.text("RabbitMQHost", "localhost", "RabbitMQ host");
  c.rabbitmq_port = s.port("RabbitMQPort", 5672, "RabbitMQ AMQP port");
  c.rabbitmq_user = s.text("RabbitMQUser", "guest", "RabbitMQ user");
  c.rabbitmq_password = s.secret("RabbitMQPassword", "guest", "RabbitMQ password");
  c.grpc_platform = s.text("GrpcPlatform", "http://localhost:5001",
                           "Platform Service gRPC address");
  return c;
}

} // namespace command
