#pragma once
// How the services' own AMQP library (shared_amqp) reaches the fixture's
// RabbitMQ; for tests and benchmarks that link both.
#include "real_servers.hpp"

#include <shared/amqp/connection.hpp>

#include <cstdint>
#include <string>

namespace support {

inline shared::amqp::connection_options amqp_options(std::string connection_name) {
  auto& b = rabbitmq();
  shared::amqp::connection_options o;
  o.host = b.host();
  o.port = static_cast<std::uint16_t>(b.port());
  o.user = b.user();
  o.password = b.password();
  o.name = std::move(connection_name);
  return o;
}

} // namespace support
