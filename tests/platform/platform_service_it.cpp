// The real platform-service binary, driven through its real ports, against
// the fixture's real PostgreSQL and RabbitMQ.
#include "service_process.hpp"

#include <grpcpp/grpcpp.h>
#include <platforms.grpc.pb.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <unistd.h>

using namespace std::chrono_literals;
using nlohmann::json;
using platform_it::service_process;

namespace {

platform_it::service_options options(const std::string& database) {
  platform_it::service_options o;
  o.database = database;
  return o;
}

// "p7": built with append, since `"p" + std::to_string(i)` trips GCC 12's
// -Wrestrict false positive.
std::string numbered(const char* prefix, int i) {
  std::string s = prefix;
  s.append(std::to_string(i));
  return s;
}

json body_of(const httplib::Result& r) {
  return json::parse(r->body);
}

void expect_problem(const httplib::Result& r, int status, const std::string& what) {
  ASSERT_TRUE(r) << what;
  EXPECT_EQ(r->status, status) << what << ": " << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json") << what;
  auto p = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(p.is_object()) << what;
  EXPECT_EQ(p["status"], status) << what;
  EXPECT_TRUE(p["type"].is_string()) << what;
  EXPECT_TRUE(p["title"].is_string()) << what;
}

httplib::Result post_json(httplib::Client& c, const std::string& body,
                          httplib::Headers headers = {}) {
  return c.Post("/api/platforms", headers, body, "application/json");
}

// One service for the route tests: they only add platforms, never remove.
class rest_api : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    service = new service_process(options("it_rest"));
    ASSERT_TRUE(service->wait_ready()) << "platform-service did not become ready";
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(service->stop(), 0) << "SIGTERM ends the service cleanly";
    delete service;
  }
  static service_process* service;
};
service_process* rest_api::service = nullptr;

} // namespace

TEST_F(rest_api, first_start_seeds_the_three_course_platforms) {
  auto c = service->http();
  auto r = c.Get("/api/platforms");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto all = body_of(r);
  ASSERT_GE(all.size(), 3u);
  EXPECT_EQ(all[0], json::parse(R"({"id":1,"name":"Dot Net","publisher":"Microsoft","cost":"Free"})"));
  EXPECT_EQ(all[1]["name"], "SQL Server Express");
  EXPECT_EQ(all[2]["name"], "Kubernetes");
  EXPECT_EQ(all[2]["publisher"], "Cloud Native Computing Foundation");
}

TEST_F(rest_api, get_by_id_answers_the_platform_or_404) {
  auto c = service->http();
  auto r = c.Get("/api/platforms/2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["name"], "SQL Server Express");
  expect_problem(c.Get("/api/platforms/2147483647"), 404, "unknown id");
}

TEST_F(rest_api, post_creates_with_201_location_and_camel_case_body) {
  auto c = service->http();
  auto r = post_json(c, R"({"Name":"Docker","PUBLISHER":"Docker Inc","cost":"Free"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto created = body_of(r);
  int id = created["id"];
  EXPECT_GT(id, 3);
  EXPECT_EQ(created["name"], "Docker");
  EXPECT_EQ(created["publisher"], "Docker Inc");
  EXPECT_EQ(created["cost"], "Free");
  EXPECT_EQ(r->get_header_value("Location"), "/api/platforms/" + std::to_string(id));
  auto again = c.Get(r->get_header_value("Location").c_str());
  ASSERT_TRUE(again);
  EXPECT_EQ(body_of(again), created);
}

TEST_F(rest_api, get_reads_its_own_writes_and_a_404_is_not_remembered) {
  auto c = service->http();
  auto first = post_json(c, R"({"name":"Vault","publisher":"HashiCorp","cost":"Free"})");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201);
  int next = body_of(first)["id"].get<int>() + 1;
  auto path = "/api/platforms/" + std::to_string(next);
  expect_problem(c.Get(path.c_str()), 404, "the next id does not exist yet");
  auto second = post_json(c, R"({"name":"Consul","publisher":"HashiCorp","cost":"Free"})");
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 201);
  ASSERT_EQ(body_of(second)["id"], next) << "the suite posts one at a time";
  auto r = c.Get(path.c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "the earlier 404 did not stick";
  EXPECT_EQ(body_of(r), body_of(second));
}

TEST_F(rest_api, request_id_is_echoed_or_generated) {
  auto c = service->http();
  auto r = c.Get("/api/platforms/1", {{"X-Request-Id", "it-req-7"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("X-Request-Id"), "it-req-7");
  auto g = c.Get("/api/platforms/1");
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->get_header_value("X-Request-Id").empty());
}

TEST_F(rest_api, validation_errors_name_each_field) {
  auto c = service->http();
  auto r = post_json(c, R"({"name":"","publisher":42})");
  expect_problem(r, 400, "two bad fields, one missing");
  auto errors = body_of(r)["errors"];
  EXPECT_TRUE(errors.contains("name"));
  EXPECT_TRUE(errors.contains("publisher"));
  EXPECT_TRUE(errors.contains("cost"));
}

TEST_F(rest_api, malformed_requests_get_their_4xx_and_the_service_keeps_serving) {
  struct bad_request {
    std::string what;
    std::string method;
    std::string path;
    std::string body;
    std::string content_type;
    int status;
  };
  const std::string good = R"({"name":"n","publisher":"p","cost":"c"})";
  const std::vector<bad_request> table = {
    {"bad JSON", "POST", "/api/platforms", R"({"name":)", "application/json", 400},
    {"not an object", "POST", "/api/platforms", R"(["name"])", "application/json", 400},
    {"null body", "POST", "/api/platforms", "null", "application/json", 400},
    {"empty body", "POST", "/api/platforms", "", "application/json", 400},
    {"wrong types", "POST", "/api/platforms", R"({"name":1,"publisher":true,"cost":{}})",
     "application/json", 400},
    {"empty strings", "POST", "/api/platforms", R"({"name":"","publisher":"","cost":""})",
     "application/json", 400},
    {"blank strings", "POST", "/api/platforms", R"({"name":" ","publisher":"p","cost":"c"})",
     "application/json", 400},
    {"missing fields", "POST", "/api/platforms", "{}", "application/json", 400},
    {"invalid UTF-8", "POST", "/api/platforms", "{\"name\":\"\xc3\x28\",\"publisher\":\"p\",\"cost\":\"c\"}",
     "application/json", 400},
    {"1 MB body", "POST", "/api/platforms", std::string(1 << 20, ' ') + good, "application/json", 413},
    {"text/plain", "POST", "/api/platforms", good, "text/plain", 415},
    {"form", "POST", "/api/platforms", "name=x", "application/x-www-form-urlencoded", 415},
    {"id 0", "GET", "/api/platforms/0", "", "", 400},
    {"id -1", "GET", "/api/platforms/-1", "", "", 400},
    {"id 99999999999", "GET", "/api/platforms/99999999999", "", "", 400},
    {"id 2147483648", "GET", "/api/platforms/2147483648", "", "", 400},
    {"id abc", "GET", "/api/platforms/abc", "", "", 400},
    {"id 1.5", "GET", "/api/platforms/1.5", "", "", 400},
    {"DELETE", "DELETE", "/api/platforms/1", "", "", 405},
    {"PUT", "PUT", "/api/platforms", good, "application/json", 405},
    {"POST to an id", "POST", "/api/platforms/1", good, "application/json", 405},
    {"unknown route", "GET", "/api/nothing", "", "", 404},
  };
  auto c = service->http();
  for (auto& t : table) {
    auto send = [&]() {
      if (t.method == "GET")
        return c.Get(t.path.c_str());
      if (t.method == "POST")
        return c.Post(t.path.c_str(), t.body, t.content_type.c_str());
      if (t.method == "PUT")
        return c.Put(t.path.c_str(), t.body, t.content_type.c_str());
      return c.Delete(t.path.c_str());
    };
    auto r = send();
    expect_problem(r, t.status, t.what);
    if (r && t.status == 405) {
      EXPECT_FALSE(r->get_header_value("Allow").empty()) << t.what;
    }
  }
  auto fresh = service->http();
  auto ok = post_json(fresh, good);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
  auto health = fresh.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(rest_api, health_readiness_and_metrics) {
  auto c = service->http();
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  c.Get("/api/platforms/1");
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("http_requests_total{method=\"GET\",route=\"/api/platforms/{id}\",status=\"200\"}"),
            std::string::npos) << m->body;
  EXPECT_NE(m->body.find("http_request_duration_seconds_bucket{route=\"/api/platforms/{id}\""),
            std::string::npos);
  EXPECT_NE(m->body.find("# TYPE outbox_backlog gauge"), std::string::npos);
  EXPECT_NE(m->body.find("# TYPE actor_restarts_total counter"), std::string::npos);
}

TEST_F(rest_api, grpc_client_reads_all_platforms) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(service->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = GrpcPlatform::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  GetAllRequest req;
  PlatformResponse res;
  auto status = stub->GetAllPlatforms(&ctx, req, &res);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(res.platform_size(), 3);
  EXPECT_EQ(res.platform(0).platformid(), 1);
  EXPECT_EQ(res.platform(0).name(), "Dot Net");
  EXPECT_EQ(res.platform(0).publisher(), "Microsoft");
  EXPECT_EQ(res.platform(2).name(), "Kubernetes");
  auto http = service->http().Get("/api/platforms");
  ASSERT_TRUE(http);
  EXPECT_EQ(static_cast<std::size_t>(res.platform_size()), body_of(http).size())
    << "gRPC and REST see the same platforms";
}

TEST(outbox, events_committed_while_the_broker_is_down_arrive_once_in_order_when_it_returns) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_order";
  service_process service(options("it_outbox"));
  ASSERT_TRUE(service.wait_ready());
  platform_it::prepare_queue(broker, queue);

  broker.stop();
  auto c = service.http();
  std::vector<int> ids;
  for (int i = 0; i < 50; ++i) {
    auto r = post_json(c, json{{"name", numbered("p", i)}, {"publisher", "x"}, {"cost", "y"}}.dump(),
                       {{"X-Request-Id", "outbox-" + std::to_string(i)}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << "POST " << i << " while the broker is down: " << r->body;
    ids.push_back(body_of(r)["id"]);
  }
  broker.start();

  platform_it::queue_reader reader{broker, queue};
  auto got = reader.take(50, 60s);
  ASSERT_EQ(got.size(), 50u);
  std::set<std::string> message_ids;
  for (std::size_t i = 0; i < got.size(); ++i) {
    auto event = json::parse(got[i].body);
    EXPECT_EQ(event["Id"], ids[i]) << "commit order at " << i;
    EXPECT_EQ(event["Name"], numbered("p", i));
    EXPECT_EQ(event["Event"], "Platform_Published");
    EXPECT_EQ(got[i].type, "Platform_Published");
    EXPECT_EQ(got[i].content_type, "application/json");
    EXPECT_EQ(got[i].delivery_mode, 2) << "persistent";
    EXPECT_EQ(got[i].correlation_id, "outbox-" + std::to_string(i));
    message_ids.insert(got[i].message_id);
  }
  EXPECT_EQ(message_ids.size(), 50u) << "distinct message ids";
  // Exactly once: once the backlog is empty, nothing more arrives.
  auto until = std::chrono::steady_clock::now() + 20s;
  while (service.metric("outbox_backlog") > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(service.metric("outbox_backlog"), 0);
  EXPECT_TRUE(reader.take(1, 1s).empty()) << "no duplicates";
  EXPECT_GE(service.metric("actor_restarts_total{actor=\"platform.outbox_relay\"}"), 1)
    << "the relay failed and was restarted while the broker was away";
}

TEST(command_client, each_created_platform_is_posted_to_the_command_service) {
  httplib::Server commands;
  std::mutex mutex;
  std::vector<std::pair<json, std::string>> seen;
  commands.Post("/api/c/platforms", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard guard{mutex};
    seen.emplace_back(json::parse(req.body), req.get_header_value("X-Request-Id"));
    res.set_content("Inbound test of from Platforms Controler", "text/plain");
  });
  int port = commands.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { commands.listen_after_bind(); });
  struct stop_on_exit {
    httplib::Server& svr;
    std::thread& thread;
    void stop() {
      svr.stop();
      if (thread.joinable())
        thread.join();
    }
    ~stop_on_exit() { stop(); }
  } commands_guard{commands, serving};

  auto opts = options("it_command");
  opts.command_client = true;
  opts.extra_flags.push_back("--CommandService=http://127.0.0.1:" + std::to_string(port)
                             + "/api/c/platforms");
  service_process service(opts);
  ASSERT_TRUE(service.wait_ready());
  auto c = service.http();
  auto r = post_json(c, R"({"name":"Helm","publisher":"CNCF","cost":"Free"})",
                     {{"X-Request-Id", "sync-1"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201);
  ASSERT_TRUE(service.process().wait_for_line("command_service_answered", 10s));
  {
    std::lock_guard guard{mutex};
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].first, body_of(r));
    EXPECT_EQ(seen[0].second, "sync-1");
  }
  commands_guard.stop();
  // The Commands Service gone: the POST still succeeds, the failure is logged.
  auto down = post_json(c, R"({"name":"Istio","publisher":"CNCF","cost":"Free"})");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 201);
  EXPECT_TRUE(service.process().wait_for_line("command_service_unreachable", 10s));
}

TEST(database_outage, requests_get_503_within_the_deadline_and_the_service_recovers) {
  auto& pg = support::postgres();
  auto opts = options("it_db_outage");
  opts.extra_flags.push_back("--DatabaseTimeout=1s");
  service_process service(opts);
  ASSERT_TRUE(service.wait_ready());

  pg.stop();
  auto c = service.http();
  for (int round = 0; round < 3; ++round) { // while members fail, restart and fail again
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.Get("/api/platforms/1");
    auto elapsed = std::chrono::steady_clock::now() - t0;
    expect_problem(r, 503, "GET while the database is down");
    EXPECT_LT(elapsed, 2500ms) << "no request hangs past its deadline";
    t0 = std::chrono::steady_clock::now();
    expect_problem(post_json(c, R"({"name":"n","publisher":"p","cost":"c"})"), 503, "POST");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
    expect_problem(c.Get("/readyz"), 503, "readyz");
  }
  auto alive = c.Get("/healthz");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200) << "alive, only not ready";

  pg.start();
  EXPECT_TRUE(service.wait_ready(30s)) << "ready again once the database is back";
  // Members still in backoff are skipped: the request reaches one that is back.
  auto r = c.Get("/api/platforms/1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto created = post_json(c, R"({"name":"after","publisher":"p","cost":"c"})");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  EXPECT_GE(service.metric("actor_restarts_total{actor=\"platform.repository.1\"}"), 1);
}

TEST(outbox, broker_killed_in_the_middle_of_a_drain_loses_no_event) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_kill";
  auto opts = options("it_outbox_kill");
  // One event per confirm round: the drain lasts long enough to be interrupted.
  opts.extra_flags.push_back("--OutboxBatchSize=1");
  service_process service(opts);
  ASSERT_TRUE(service.wait_ready());
  platform_it::prepare_queue(broker, queue);

  broker.stop();
  auto c = service.http();
  std::set<int> ids;
  for (int i = 0; i < 500; ++i) {
    auto r = post_json(c, json{{"name", numbered("k", i)}, {"publisher", "x"}, {"cost", "y"}}.dump());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201);
    ids.insert(body_of(r)["id"].get<int>());
  }
  broker.start();
  std::set<int> seen;
  std::size_t before_kill = 0;
  {
    platform_it::queue_reader reader{broker, queue};
    for (auto& m : reader.take(20, 60s))
      seen.insert(json::parse(m.body)["Id"].get<int>());
    before_kill = seen.size();
  }
  broker.kill();
  broker.start();
  platform_it::queue_reader reader{broker, queue};
  auto until = std::chrono::steady_clock::now() + 90s;
  while (seen.size() < ids.size() && std::chrono::steady_clock::now() < until)
    for (auto& m : reader.take(100, 1s))
      seen.insert(json::parse(m.body)["Id"].get<int>());
  EXPECT_LT(before_kill, ids.size()) << "the broker was killed before the drain ended";
  EXPECT_EQ(seen, ids) << "every committed event arrived (duplicates allowed across the crash)";
}

TEST(grpc_tls, serves_over_tls_with_a_configured_certificate) {
  auto dir = std::filesystem::temp_directory_path() / ("platform-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto key = (dir / "key.pem").string(), cert = (dir / "cert.pem").string();
  auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
             " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + key + " -out " + cert
             + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto opts = options("it_tls");
  opts.extra_flags = {"--GrpcCertificate=" + cert, "--GrpcPrivateKey=" + key};
  service_process service(opts);
  ASSERT_TRUE(service.wait_ready());

  std::ifstream in{cert};
  std::string pem{std::istreambuf_iterator<char>(in), {}};
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = pem;
  auto target = "localhost:" + std::to_string(service.grpc_port());
  auto stub = GrpcPlatform::NewStub(grpc::CreateChannel(target, grpc::SslCredentials(tls)));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  PlatformResponse res;
  auto status = stub->GetAllPlatforms(&ctx, GetAllRequest{}, &res);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(res.platform_size(), 3);

  auto plain = GrpcPlatform::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext plain_ctx;
  plain_ctx.set_deadline(std::chrono::system_clock::now() + 3s);
  PlatformResponse ignored;
  EXPECT_FALSE(plain->GetAllPlatforms(&plain_ctx, GetAllRequest{}, &ignored).ok())
    << "plaintext is refused when TLS is configured";
  std::filesystem::remove_all(dir);
}
