#include "config.hpp"

namespace platform {

config read_config(actors::settings& s) {
  config c;
  c.http_port = s.port("HttpPort", 5000, "REST API listen port");
  c.grpc_port = s.port("GrpcPort", 5001, "gRPC listen port (666 in the course's cluster)");
  c.database = s.connection_string(
    "ConnectionStrings__PlatformsConn",
    "host=127.0.0.1 port=5432 dbname=platforms user=postgres connect_timeout=3",
    "PostgreSQL connection string");
  c.rabbitmq_host = s.text("RabbitMQHost", "localhost", "RabbitMQ host");
  c.rabbitmq_port = s.port("RabbitMQPort", 5672, "RabbitMQ AMQP port");
  c.rabbitmq_user = s.text("RabbitMQUser", "guest", "RabbitMQ user");
  c.rabbitmq_password = s.secret("RabbitMQPassword", "guest", "RabbitMQ password");
  c.command_service = s.text("CommandService", "http://localhost:6000/api/c/platforms",
                             "URL the platform is POSTed to after a create");
  return c;
}

} // namespace platform
