// Load figures for the Platform Service, against real PostgreSQL and RabbitMQ
// from the test fixture and the real binary (bench/platform/RESULTS.md):
//   platform_load [--seconds=N] [--connections=N] [--get-only | --relay-only]
//                 [--flag=--DatabasePoolSize=8 ...]   (flags for platform-service)
// 1. wrk GET /api/platforms/{id}, 2. wrk POST /api/platforms,
// 3. outbox relay drain rate (events confirmed per second),
// 4. GetAllPlatforms over 100,000 platforms.
#include <service_process.hpp>

#include <grpcpp/grpcpp.h>
#include <platforms.grpc.pb.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  int seconds = 10;
  int connections = 64;
  std::vector<std::string> flags;
  bool get_only = false;
  bool relay_only = false;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0)
      o.seconds = std::stoi(a.substr(10));
    else if (a.rfind("--connections=", 0) == 0)
      o.connections = std::stoi(a.substr(14));
    else if (a == "--get-only")
      o.get_only = true;
    else if (a == "--relay-only")
      o.relay_only = true;
    else if (a.rfind("--flag=", 0) == 0)
      o.flags.push_back(a.substr(7));
  }
  return o;
}

void run(const std::string& command) {
  std::cout << "$ " << command << std::endl;
  if (std::system(command.c_str()) != 0)
    std::cout << "(command failed)" << std::endl;
}

long long count(soci::session& sql, const std::string& query) {
  long long n = 0;
  sql << query, soci::into(n);
  return n;
}

void relay_drain(soci::session& sql, const support::rabbitmq_server& broker) {
  const int events = 50'000;
  platform_it::prepare_queue(broker, "bench_relay");
  auto start = clock_type::now();
  sql << "INSERT INTO outbox (type, payload) SELECT 'Platform_Published',"
         " '{\"Id\":' || g || ',\"Name\":\"bench\",\"Event\":\"Platform_Published\"}'"
         " FROM generate_series(1, " << events << ") g";
  auto inserted = clock_type::now();
  while (count(sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0
         && clock_type::now() - inserted < 120s)
    std::this_thread::sleep_for(20ms);
  auto done = clock_type::now();
  auto seconds = std::chrono::duration<double>(done - inserted).count();
  std::printf("relay: %d events confirmed and marked in %.2f s = %.0f events/s"
              " (insert took %.2f s)\n",
              events, seconds, events / seconds,
              std::chrono::duration<double>(inserted - start).count());
}

void get_all_platforms(soci::session& sql, int grpc_port) {
  sql << "INSERT INTO platforms (name, publisher, cost) SELECT 'platform-' || g,"
         " 'publisher-' || g, 'Free' FROM generate_series(1, 100000) g";
  auto total = count(sql, "SELECT count(*) FROM platforms");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(grpc_port),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = GrpcPlatform::NewStub(channel);
  std::vector<double> times;
  for (int i = 0; i < 7; ++i) {
    grpc::ClientContext ctx;
    GetAllRequest req;
    PlatformResponse res;
    auto t0 = clock_type::now();
    auto status = stub->GetAllPlatforms(&ctx, req, &res);
    auto t = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (!status.ok()) {
      std::printf("GetAllPlatforms failed: %s\n", status.error_message().c_str());
      return;
    }
    if (res.platform_size() != total)
      std::printf("GetAllPlatforms returned %d of %lld\n", res.platform_size(), total);
    times.push_back(t);
  }
  std::sort(times.begin(), times.end());
  std::printf("GetAllPlatforms over %lld platforms: min %.3f s, median %.3f s, max %.3f s\n",
              total, times.front(), times[times.size() / 2], times.back());
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  platform_it::service_options so;
  so.database = "bench_platforms";
  so.extra_flags = o.flags;
  so.extra_flags.push_back("--LogLevel=warn");
  platform_it::service_process service(so);
  if (!service.wait_ready()) {
    std::cerr << "platform-service did not become ready\n";
    return 1;
  }
  if (o.relay_only) {
    soci::session sql(soci::postgresql, support::postgres().connection_string("bench_platforms"));
    relay_drain(sql, support::rabbitmq());
    return service.stop() == 0 ? 0 : 1;
  }
  auto base = "http://127.0.0.1:" + std::to_string(service.http_port());
  auto wrk = "wrk -t2 -c" + std::to_string(o.connections) + " -d" + std::to_string(o.seconds)
             + "s --latency ";
  run(wrk + base + "/api/platforms/1");
  if (o.get_only)
    return service.stop() == 0 ? 0 : 1;
  run(wrk + "-s " BENCH_DIR "/post.lua " + base);

  soci::session sql(soci::postgresql, support::postgres().connection_string("bench_platforms"));
  std::printf("committed platforms after the POST run: %lld\n",
              count(sql, "SELECT count(*) FROM platforms"));
  // Let the relay finish the POST run's events before timing it.
  while (count(sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0)
    std::this_thread::sleep_for(50ms);
  relay_drain(sql, support::rabbitmq());
  get_all_platforms(sql, service.grpc_port());
  return service.stop() == 0 ? 0 : 1;
}
