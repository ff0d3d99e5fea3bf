#pragma once
// The Command Service's settings, read and checked once at start-up, one
// struct per actor. Every config struct of the service is here; the actors'
// headers include this one.
#include "sync/platform_client.hpp"

#include <actors/backoff.hpp>
#include <actors/settings.hpp>
#include <shared/amqp/settings.hpp>
#include <shared/http/rest_controller_actor.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace command {

struct subscriber_config {
  shared::amqp::broker_config broker; // the connection and the `trigger` exchange
  std::string queue = "command-service";
  std::uint16_t prefetch = 256;
  std::chrono::milliseconds event_timeout{5'000};
  std::chrono::milliseconds poll{200}; // longest wait in the library: the mailbox stays responsive
};

struct event_processor_config {
  std::chrono::milliseconds repository_timeout{2'000};
  std::size_t max_event_bytes = 64 * 1024; // larger events are dead-lettered unread
};

struct platform_sync_config {
  grpc_target target;
  std::string ca_pem;                            // for https://; empty: gRPC's default roots
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds deadline{2'000};     // per gRPC call; per page of the stream
  std::size_t max_message_bytes = 64 << 20;      // the largest message accepted
  std::chrono::milliseconds repository_timeout{2'000};
  actors::backoff_policy retry{std::chrono::milliseconds{500}, std::chrono::milliseconds{30'000}, 0.2};
};

struct config {
  std::string database; // ":memory:" (SQLite, the default), "sqlite:<file>" or PostgreSQL
  shared::http::rest_config rest;
  subscriber_config subscriber;
  event_processor_config processor;
  platform_sync_config sync;
};

config read_config(actors::settings& s);

} // namespace command
