#include "bench_support.hpp"

#include <amqp_options.hpp>

#include <thread>

namespace command_bench {

shared::amqp::connection_options broker() {
  return support::amqp_options("command-bench");
}

std::vector<std::string> command_service_args(int http_port, const std::string& queue,
                                              const std::vector<std::string>& extra) {
  auto b = broker();
  std::vector<std::string> args = {
    COMMAND_SERVICE_PATH, "--HttpPort=" + std::to_string(http_port),
    "--RabbitMQHost=" + b.host, "--RabbitMQPort=" + std::to_string(b.port),
    "--RabbitMQUser=" + b.user, "--RabbitMQPassword=" + b.password,
    "--RabbitMQQueue=" + queue, "--LogLevel=warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool wait_ready(httplib::Client& cli, std::chrono::milliseconds deadline) {
  using clock = std::chrono::steady_clock;
  for (auto until = clock::now() + deadline; clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(20)))
    if (auto r = cli.Get("/readyz"); r && r->status == 200
                                      && r->body.find(R"("subscriber":"consuming")") != std::string::npos)
      return true;
  return false;
}

} // namespace command_bench
