// A partition, not a crash: both services reach the broker through a TCP
// proxy that the test cuts without closing anything (no FIN, no RST; new
// connections are accepted and never answered). Both must notice by
// heartbeat within 10 s, keep serving what needs no broker (platform
// creates, command reads and writes), and once the link heals deliver every
// event created meanwhile.
#include "command_process.hpp"

#include <eventually.hpp>
#include <real_servers.hpp>
#include <service_process.hpp>
#include <tcp_proxy.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto heartbeat = 4s; // rabbitmq-c gives up after two: under 10 s

int create_platform(httplib::Client c, int i) {
  auto r = c.Post("/api/platforms",
                  json{{"name", std::string{"partition "}.append(std::to_string(i))},
                       {"publisher", "chaos"}, {"cost", "free"}}.dump(),
                  "application/json");
  EXPECT_TRUE(r && r->status == 201) << "create " << i << ": " << (r ? r->body : "no answer");
  return r && r->status == 201 ? json::parse(r->body)["id"].get<int>() : 0;
}

long long ms(clock_type::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

} // namespace

TEST(partition, both_services_notice_within_10s_keep_serving_and_deliver_everything_after) {
  auto& mq = support::rabbitmq();
  support::tcp_proxy link{mq.host(), mq.port()};
  platform_it::service_options o;
  o.database = "chaos_partition";
  o.extra_flags = {"--RabbitMQPort=" + std::to_string(link.port()),
                   "--RabbitMQHeartbeat=" + std::to_string(heartbeat.count()) + "s"};
  platform_it::service_process platforms{o};
  ASSERT_TRUE(platforms.wait_ready());
  chaos::command_process commands{
    mq, link.port(), platforms.grpc_port(), "chaos-partition",
    {"--RabbitMQHeartbeat=" + std::to_string(heartbeat.count()) + "s"}};
  ASSERT_TRUE(support::eventually([&] { return commands.status_is("/readyz", 200); }, 30s));
  ASSERT_TRUE(commands.process().wait_for_line("actor=command.subscriber event=consuming", 10s));

  std::set<int> created;
  for (int i = 0; i < 10; ++i)
    created.insert(create_platform(platforms.http(), i));
  ASSERT_TRUE(support::eventually([&] {
    auto seen = commands.events_seen();
    return std::all_of(created.begin(), created.end(), [&](int id) { return seen.count(id); });
  }, 10s)) << "the events before the partition";

  auto platform_from = platforms.process().lines().size();
  auto command_from = commands.process().lines().size();
  link.cut();
  auto cut_at = clock_type::now();
  auto relay_failed = platforms.process().wait_for_line("child=platform.outbox_relay", 15s,
                                                        platform_from);
  auto relay_noticed = clock_type::now() - cut_at;
  auto subscriber_failed = commands.process().wait_for_line("actor=command.subscriber event=failed",
                                                            15s, command_from);
  auto subscriber_noticed = clock_type::now() - cut_at;
  std::cerr << "partition noticed: platform relay " << ms(relay_noticed)
            << " ms, command subscriber " << ms(subscriber_noticed) << " ms\n";
  ASSERT_TRUE(relay_failed) << "the relay did not notice";
  ASSERT_TRUE(subscriber_failed) << "the subscriber did not notice";
  // Silence is what tells: a missed heartbeat, or an RPC unanswered in its
  // timeout (the relay's once-a-second purge may meet the silence first).
  auto silent = [](const std::string& line) {
    return line.find("heartbeat") != std::string::npos || line.find("timed out") != std::string::npos;
  };
  EXPECT_TRUE(silent(*relay_failed)) << *relay_failed;
  EXPECT_TRUE(silent(*subscriber_failed)) << *subscriber_failed;
  EXPECT_LT(relay_noticed, 10s);
  EXPECT_LT(subscriber_noticed, 10s);

  // What needs no broker goes on.
  std::set<int> during;
  for (int i = 10; i < 30; ++i)
    during.insert(create_platform(platforms.http(), i));
  EXPECT_TRUE(commands.status_is("/api/c/platforms", 200));
  // Ready means "can serve its API": still ready, saying the subscriber reconnects.
  auto readiness = commands.http().Get("/readyz");
  ASSERT_TRUE(readiness);
  EXPECT_EQ(readiness->status, 200) << readiness->body;
  EXPECT_EQ(json::parse(readiness->body)["checks"]["subscriber"], "reconnecting") << readiness->body;
  auto known = *created.begin();
  auto made = commands.http().Post("/api/c/platforms/" + std::to_string(known) + "/commands",
                                   R"({"howTo":"during the partition","commandLine":"true"})",
                                   "application/json");
  ASSERT_TRUE(made);
  EXPECT_EQ(made->status, 201) << made->body;
  std::this_thread::sleep_for(2s); // the partition lasts: reconnects meet silence

  link.heal();
  auto healed_at = clock_type::now();
  ASSERT_TRUE(support::eventually([&] {
    auto seen = commands.events_seen();
    return std::all_of(during.begin(), during.end(), [&](int id) { return seen.count(id); });
  }, 60s)) << "every event created during the partition arrives over the bus";
  std::cerr << "all events of the partition delivered " << ms(clock_type::now() - healed_at)
            << " ms after the link healed\n";
  auto ids = commands.platform_ids();
  for (int id : during)
    EXPECT_TRUE(ids.count(id)) << id;
  for (auto [id, times] : commands.events_seen())
    EXPECT_LE(times, 2) << "platform " << id << ": at most one redelivery of an unacked event";
}
