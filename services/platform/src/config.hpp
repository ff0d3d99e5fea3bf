#pragma once
// The Platform Service's settings, read and checked once at start-up, one
// struct per actor. The conventions both services share (REST server, broker)
// come from the shared readers, so both binaries name, parse and default them
// alike.
#include "outbox/refusals.hpp"

#include <actors/settings.hpp>
#include <shared/amqp/settings.hpp>
#include <shared/http/rest_controller_actor.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace platform {

struct repository_config {
  std::string database; // ConnectionStrings__PlatformsConn
  std::size_t pool_size = 4;
  // Inside the service's memory budget (< 64 MB resident, bench/RESULTS.md):
  // the hot set of a GET by id is recent creates and a few popular ids.
  std::size_t cache_size = 10'000; // platforms by id kept in memory; 0 = off
  std::size_t cache_bytes = 4 << 20; // and the memory they may take
};

struct grpc_config {
  std::uint16_t port = 5001;
  std::string certificate_file; // TLS when both are set
  std::string private_key_file;
  std::chrono::milliseconds request_timeout{10'000}; // per repository request, within the caller's deadline
  std::size_t max_message_bytes = 64 << 20;         // received or sent
};

struct relay_config {
  std::string database;
  shared::amqp::broker_config broker;
  std::size_t batch_size = 2'000;
  // Under steady creates each batch is an event or two, and with 2 in flight
  // the relay waits on the broker's confirms: 201 -> applied p99 at 500/s was
  // 9.7-128 ms with 2, 6.6-31 ms in 3 runs of 4 with 8 (bench/RESULTS.md).
  std::size_t batches_in_flight = 8; // sent, confirms not yet read
  std::chrono::milliseconds poll_interval{500};
  // With batches in flight, the least time between two looks for pending
  // rows: the wakes of that time make one batch (a look from idle is at once).
  std::chrono::milliseconds wake_linger{1};
  std::chrono::milliseconds confirm_timeout{5'000};
  // A leader silent this long loses the relay lock (store/outbox_store.hpp).
  std::chrono::milliseconds lease{15'000};
  std::chrono::milliseconds retention{7 * 24 * 3'600'000LL}; // published rows kept
  refusal_policy refusals; // what is parked rather than published
};

struct command_client_config {
  bool enabled = true;
  std::string url; // CommandService
  std::chrono::milliseconds timeout{2'000};
};

struct config {
  repository_config repository;
  shared::http::rest_config rest;
  grpc_config grpc;
  relay_config relay;
  command_client_config command_client;
};

config read_config(actors::settings& s);

} // namespace platform
