#include "shared/amqp/settings.hpp"

namespace shared::amqp {

broker_config read_broker_config(actors::settings& s, std::string connection_name) {
  using std::chrono::seconds;
  broker_config b;
  auto& c = b.connection;
  c.name = std::move(connection_name);
  c.host = s.text("RabbitMQHost", "localhost", "RabbitMQ host");
  c.port = s.port("RabbitMQPort", 5672, "RabbitMQ AMQP port");
  c.user = s.text("RabbitMQUser", "guest", "RabbitMQ user");
  c.password = s.secret("RabbitMQPassword", "guest", "RabbitMQ password");
  auto heartbeat = s.duration("RabbitMQHeartbeat", seconds{10},
                              "AMQP heartbeat, whole seconds from 1s to 60s: a dead broker is "
                              "noticed within two");
  if (heartbeat < seconds{1} || heartbeat > seconds{60} || heartbeat.count() % 1000 != 0)
    s.reject("RabbitMQHeartbeat", std::to_string(heartbeat.count()) + "ms",
             "must be whole seconds from 1s to 60s");
  c.heartbeat = std::chrono::duration_cast<seconds>(heartbeat);
  b.durable_exchange = s.boolean("RabbitMQDurableExchange", true,
                                 "declare `trigger` durable with its alternate exchange "
                                 "`trigger.unrouted` (false: the course's declaration)");
  return b;
}

} // namespace shared::amqp
