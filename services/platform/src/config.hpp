#pragma once
// The Platform Service's settings, read and checked once at start-up.
#include <actors/settings.hpp>

#include <cstdint>
#include <string>

namespace platform {

struct config {
  std::uint16_t http_port;
  std::uint16_t grpc_port;
  std::string database;        // ConnectionStrings__PlatformsConn
  std::string rabbitmq_host;
  std::uint16_t rabbitmq_port;
  std::string rabbitmq_user;
  std::string rabbitmq_password;
  std::string command_service; // URL of the synchronous demonstration POST
};

config read_config(actors::settings& s);

} // namespace platform
