#pragma once
// The real command-service on loopback for the chaos tests, with what they
// read from it: its platforms over REST and, from its log lines, which
// platforms' events came over the bus and how often.
#include <child_process.hpp>
#include <real_servers.hpp>
#include <service_process.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace chaos {

class command_process {
public:
  // `broker_port`: where it reaches `broker` (a proxy's port, or its own).
  command_process(const support::rabbitmq_server& broker, int broker_port, int grpc_port,
                  const std::string& queue, const std::vector<std::string>& extra_flags = {})
    : port_(platform_it::free_port()) {
    std::vector<std::string> argv{
      COMMAND_SERVICE_BIN, "--HttpPort=" + std::to_string(port_),
      "--RabbitMQHost=" + broker.host(), "--RabbitMQPort=" + std::to_string(broker_port),
      "--RabbitMQUser=" + broker.user(), "--RabbitMQPassword=" + broker.password(),
      "--RabbitMQQueue=" + queue,
      "--GrpcPlatform=http://127.0.0.1:" + std::to_string(grpc_port),
      "--LogLevel=debug"}; // event_duplicate lines: what came over the bus
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    process_.emplace(argv);
  }

  httplib::Client http() const {
    httplib::Client c{"127.0.0.1", port_};
    c.set_connection_timeout(std::chrono::seconds{2});
    c.set_read_timeout(std::chrono::seconds{5});
    return c;
  }
  bool status_is(const std::string& path, int status) const {
    auto r = http().Get(path);
    return r && r->status == status;
  }
  std::set<int> platform_ids() const {
    std::set<int> ids;
    if (auto r = http().Get("/api/c/platforms"); r && r->status == 200)
      for (auto& p : nlohmann::json::parse(r->body))
        ids.insert(p["id"].get<int>());
    return ids;
  }
  // Platform id -> how many of its events the subscriber handled.
  std::map<int, int> events_seen() const {
    static const std::regex about{R"(event=event_(applied|duplicate) .*detail="platform (\d+)\")"};
    std::map<int, int> seen;
    std::smatch m;
    for (auto& line : process_->lines())
      if (std::regex_search(line, m, about))
        ++seen[std::stoi(m[2])];
    return seen;
  }
  support::child_process& process() { return *process_; }

private:
  int port_;
  std::optional<support::child_process> process_;
};

} // namespace chaos
