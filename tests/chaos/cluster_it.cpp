// The bus as a cluster: three RabbitMQ nodes on loopback, the command queue a
// quorum queue with its dead-letter exchange (RabbitMQQueueType=quorum), both
// services given the three addresses (RabbitMQHost plus RabbitMQAddresses).
// Under steady creates each node in turn is SIGKILLed and started again
// before the next: every platform created (its event committed with it and
// relayed with publisher confirms) reaches the command service over the bus.
#include "command_process.hpp"

#include <eventually.hpp>
#include <real_servers.hpp>
#include <service_process.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string queue = "chaos-cluster";
constexpr auto create_interval = 25ms; // about 40 creates a second: three nodes share 2 cores

long long ms(clock_type::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Creates platforms one after another at a steady pace on its own thread
// until destroyed; keeps the id of each 201 and counts any other answer.
class create_load {
public:
  explicit create_load(const platform_it::service_process& platforms)
    : thread_([this, &platforms] { run(platforms.http()); }) {}
  ~create_load() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

  std::vector<int> created() const {
    std::lock_guard lock(mutex_);
    return created_;
  }
  int last_created() const {
    std::lock_guard lock(mutex_);
    return created_.empty() ? 0 : created_.back();
  }
  int other_answers() const { return other_answers_; }

private:
  void run(httplib::Client c) {
    for (int i = 0; !stop_; ++i) {
      auto next = clock_type::now() + create_interval;
      auto r = c.Post("/api/platforms",
                      json{{"name", std::string{"cluster "}.append(std::to_string(i))},
                           {"publisher", "chaos"}, {"cost", "free"}}.dump(),
                      "application/json");
      if (r && r->status == 201) {
        std::lock_guard lock(mutex_);
        created_.push_back(json::parse(r->body)["id"].get<int>());
      } else {
        ++other_answers_;
        std::cerr << "create " << i << ": " << (r ? r->body : "no answer") << '\n';
      }
      std::this_thread::sleep_until(next);
    }
  }

  mutable std::mutex mutex_;
  std::vector<int> created_;
  std::atomic<int> other_answers_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The broker port named on the last line holding `needle` ("broker=H:P").
int last_broker_port(const std::vector<std::string>& lines, const std::string& needle) {
  static const std::regex broker{R"(broker=[^ :]+:(\d+))"};
  std::smatch m;
  for (auto line = lines.rbegin(); line != lines.rend(); ++line)
    if (line->find(needle) != std::string::npos && std::regex_search(*line, m, broker))
      return std::stoi(m[1]);
  return 0;
}

// `rabbitmqctl list_queues name ...`: the line of `name`.
std::string queue_line(const std::string& listing, const std::string& name) {
  std::istringstream in{listing};
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + '\t', 0) == 0)
      return line;
  return {};
}

// The nodes' own logs outlive the run only when it failed: in
// cluster_it-logs/ beside the binary's working directory.
void keep_node_logs(support::rabbitmq_cluster& cluster) {
  std::filesystem::path kept = "cluster_it-logs";
  std::filesystem::create_directories(kept);
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    auto log = cluster.node(i).log_file();
    std::filesystem::copy_file(log, kept / log.filename(),
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::cerr << "cluster: the nodes' logs are in " << std::filesystem::absolute(kept) << '\n';
}

} // namespace

TEST(cluster, one_node_sigkilled_at_a_time_under_load_loses_no_confirmed_event) {
  auto started = clock_type::now();
  auto& cluster = support::rabbitmq_cluster_of_three();
  std::cerr << "cluster of " << cluster.size() << " formed in " << ms(clock_type::now() - started)
            << " ms\n";
  auto& first = cluster.node(0);
  std::vector<std::string> bus_flags{"--RabbitMQAddresses=" + cluster.addresses_except(0),
                                     "--RabbitMQQueueType=quorum"};
  platform_it::service_options o;
  o.database = "chaos_cluster";
  o.broker = &first;
  o.extra_flags = bus_flags;
  platform_it::service_process platforms{o};
  ASSERT_TRUE(platforms.wait_ready());
  chaos::command_process commands{first, first.port(), platforms.grpc_port(), queue, bus_flags};
  ASSERT_TRUE(commands.process().wait_for_line("actor=command.subscriber event=consuming", 30s));

  // Every queue the services declared is a quorum queue; the command queue
  // dead-letters to its exchange.
  auto listing = cluster.node(1).ctl({"list_queues", "-q", "name", "type", "arguments"});
  for (auto name : {queue, queue + ".dead", std::string{"trigger.unrouted"}})
    EXPECT_NE(queue_line(listing, name).find("\tquorum\t"), std::string::npos) << listing;
  EXPECT_NE(queue_line(listing, queue).find("\"" + queue + ".dlx\""), std::string::npos)
      << listing;

  std::vector<std::string> kills;
  {
    create_load load{platforms};
    std::this_thread::sleep_for(4s);
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      auto& node = cluster.node(i);
      bool relay_on_it = last_broker_port(platforms.process().lines(),
                                          "actor=platform.outbox_relay event=connected") ==
                         node.port();
      bool subscriber_on_it = last_broker_port(commands.process().lines(),
                                               "actor=command.subscriber event=consuming") ==
                              node.port();
      bool leads_queue = queue_line(node.ctl({"list_queues", "-q", "name", "leader"}), queue)
                             .find(node.node_name()) != std::string::npos;
      node.kill();
      auto killed_at = clock_type::now();
      auto last_before = load.last_created();
      // Resumed: the event of a platform created after the kill delivered.
      auto resumed = support::eventually([&] {
        auto seen = commands.events_seen();
        return !seen.empty() && seen.rbegin()->first > last_before;
      }, 30s);
      auto resumed_after = clock_type::now() - killed_at;
      node.start();
      auto back_after = clock_type::now() - killed_at;
      kills.push_back(std::string{"node "}
                          .append(std::to_string(i))
                          .append(leads_queue ? " (queue leader)" : "")
                          .append(relay_on_it ? " (relay's)" : "")
                          .append(subscriber_on_it ? " (subscriber's)" : "")
                          .append(": events resumed ")
                          .append(resumed ? std::to_string(ms(resumed_after)) + " ms" : "never")
                          .append(" after the SIGKILL, node back after ")
                          .append(std::to_string(ms(back_after)))
                          .append(" ms"));
      std::cerr << "cluster: " << kills.back() << '\n';
      EXPECT_TRUE(resumed) << kills.back();
      std::this_thread::sleep_for(3s); // the whole cluster under load before the next kill
    }
    std::this_thread::sleep_for(2s);
    load.stop();
    EXPECT_EQ(load.other_answers(), 0) << "creates need no broker";
    auto created = load.created();
    std::set<int> expected(created.begin(), created.end());
    auto all_arrived = [&] {
      auto seen = commands.events_seen();
      return std::all_of(expected.begin(), expected.end(), [&](int id) { return seen.count(id); });
    };
    support::eventually(all_arrived, 60s);
    auto seen = commands.events_seen();
    std::size_t lost = 0, redelivered = 0;
    for (int id : expected) {
      auto it = seen.find(id);
      lost += it == seen.end() ? 1 : 0;
      redelivered += it != seen.end() && it->second > 1 ? 1 : 0;
    }
    auto platform_lines = platforms.process().lines();
    std::cerr << "cluster: " << expected.size() << " platforms created, "
              << expected.size() - lost << " events delivered, lost " << lost << ", "
              << redelivered << " delivered more than once (applied as repeats), "
              << load.other_answers() << " answers other than 201; the relay reconnected "
              << std::count_if(platform_lines.begin(), platform_lines.end(),
                               [](const std::string& line) {
                                 return line.find("event=events_nacked") != std::string::npos;
                               })
              << " times after nacks; run took "
              << ms(clock_type::now() - started) << " ms\n";
    EXPECT_EQ(lost, 0u) << "confirmed events lost";
    auto stored = commands.platform_ids();
    for (int id : expected)
      EXPECT_TRUE(stored.count(id)) << "platform " << id << " not in the command store";
  }
  if (HasFailure())
    keep_node_logs(cluster);
}
