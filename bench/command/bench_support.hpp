#pragma once
// What the Command Service benchmarks share: the fixture broker's address,
// the real command-service binary's flags, and waiting for /readyz.
#include <shared/amqp/connection.hpp>

#include <httplib.h>

#include <chrono>
#include <string>
#include <vector>

namespace command_bench {

// The real-server fixture's RabbitMQ (started on first use).
shared::amqp::connection_options broker();

// argv for command-service on `http_port`, consuming the durable `queue`,
// logging warnings only; `extra` flags come last.
std::vector<std::string> command_service_args(int http_port, const std::string& queue,
                                              const std::vector<std::string>& extra = {});

// Polls GET /readyz until 200 with the subscriber consuming (readiness alone
// does not wait for the broker); false when `deadline` passes first.
bool wait_ready(httplib::Client& cli, std::chrono::milliseconds deadline);

} // namespace command_bench
