#pragma once
// The Command Service's settings, read and checked once at start-up.
#include <actors/settings.hpp>

#include <cstdint>
#include <string>

namespace command {

struct config {
  std::uint16_t http_port;
  std::string database;      // SQLite ":memory:" by default, or a PostgreSQL string
  std::string rabbitmq_host;
  std::uint16_t rabbitmq_port;
  std::string rabbitmq_user;
  std::string rabbitmq_password;
  std::string grpc_platform; // GrpcPlatform: where to pull platforms from
};

config read_config(actors::settings& s);

} // namespace command
