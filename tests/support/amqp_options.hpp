#pragma once
// How the services' own AMQP library (shared_amqp) reaches the fixture's
// RabbitMQ; for tests and benchmarks that link both.
#include "real_servers.hpp"

#include <shared/amqp/connection.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace support {

inline shared::amqp::connection_options amqp_options(const rabbitmq_server& broker,
                                                     std::string connection_name) {
  shared::amqp::connection_options o;
  o.host = broker.host();
  o.port = static_cast<std::uint16_t>(broker.port());
  o.user = broker.user();
  o.password = broker.password();
  o.name = std::move(connection_name);
  return o;
}

// The fixture's shared broker.
inline shared::amqp::connection_options amqp_options(std::string connection_name) {
  return amqp_options(rabbitmq(), std::move(connection_name));
}

} // namespace support
