// The real command-service binary on loopback ports, against the fixture's
// RabbitMQ and an in-test GrpcPlatform server built from the same proto (or
// the real platform-service): every route, events from the bus,
// dead-lettering, a broker killed under it, a store that fails, the service
// stopped while events pile up, and the platform sync (stream, fallback,
// limits).
#include "child_process.hpp"
#include <contract_recording.hpp>
#include <promtool.hpp>
#include <tcp_proxy.hpp>

#include <amqp_options.hpp>
#include <eventually.hpp>
#include <hostile_input.hpp>
#include <sanitizers.hpp>
#include <raw_http.hpp>
#include <real_servers.hpp>
#include <service_process.hpp>
#include <shared/amqp/connection.hpp>
#include <shared/amqp/topology.hpp>

#include "platforms.grpc.pb.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace amqp = shared::amqp;

namespace {

const std::string binary = COMMAND_SERVICE_PATH;

using support::eventually;

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The Platform Service's gRPC contract as the course has it (no stream),
// serving a list the test controls.
class platforms_service final : public GrpcPlatform::Service {
public:
  void add(int id, const std::string& name) {
    std::lock_guard guard{mutex_};
    list_.emplace_back(id, name);
  }

  grpc::Status GetAllPlatforms(grpc::ServerContext*, const GetAllRequest*,
                               PlatformResponse* out) override {
    std::lock_guard guard{mutex_};
    for (auto& [id, name] : list_) {
      auto* p = out->add_platform();
      p->set_platformid(id);
      p->set_name(name);
      p->set_publisher("test");
    }
    return grpc::Status::OK;
  }

private:
  std::mutex mutex_;
  std::vector<std::pair<int, std::string>> list_;
};

// Sends one page of a stream, then nothing until the client gives up.
class stalling_stream_service final : public GrpcPlatform::Service {
public:
  grpc::Status StreamAllPlatforms(grpc::ServerContext* ctx, const StreamAllRequest* req,
                                  grpc::ServerWriter<PlatformResponse>* out) override {
    PlatformResponse page;
    for (int id = 1; id <= req->pagesize(); ++id) {
      auto* p = page.add_platform();
      p->set_platformid(id);
      p->set_name("first page " + std::to_string(id));
    }
    out->Write(page);
    sent_ = req->pagesize();
    support::eventually([&] { return ctx->IsCancelled(); }, 10s);
    return grpc::Status::CANCELLED;
  }

  int sent() const { return sent_; }

private:
  std::atomic<int> sent_{0};
};

// A GrpcPlatform server on a loopback port, serving `Service`.
template <class Service>
class grpc_peer {
public:
  explicit grpc_peer(std::shared_ptr<grpc::ServerCredentials> credentials
                       = grpc::InsecureServerCredentials()) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", credentials, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~grpc_peer() { server_->Shutdown(std::chrono::system_clock::now() + 1s); }

  Service& service() { return service_; }
  int port() const { return port_; }

private:
  Service service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// The course's own platform service: GetAllPlatforms only (the generated
// base class answers UNIMPLEMENTED for StreamAllPlatforms).
using grpc_platforms = grpc_peer<platforms_service>;

amqp::connection_options broker_options() {
  return support::amqp_options("command-service-it");
}

// Publishes to `trigger` as the Platform Service does (with the request's
// id as correlation_id when given), and waits for confirms.
void publish(const std::vector<std::string>& bodies, const std::string& correlation_id = {},
             const std::string& traceparent = {}) {
  amqp::connection c{broker_options()};
  amqp::declare_trigger(c);
  c.enable_confirms();
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    amqp::properties props;
    props.message_id = "it-" + std::to_string(i);
    props.content_type = "application/json";
    props.correlation_id = correlation_id;
    if (!traceparent.empty())
      props.headers.emplace("traceparent", traceparent);
    c.publish("trigger", "", bodies[i], props);
  }
  std::size_t acked = 0;
  for (auto& [seq, status] : c.wait_for_confirms(10s))
    acked += status == amqp::confirm_status::acked ? 1 : 0;
  ASSERT_EQ(acked, bodies.size());
}

std::string event(int id, const std::string& name) {
  return json{{"Id", id}, {"Name", name}, {"Event", "Platform_Published"}}.dump();
}

// One command-service process; its queue is the test's own.
class command_service {
public:
  command_service(std::string queue, int grpc_port, std::vector<std::string> extra = {})
    : queue_(std::move(queue)), port_(free_port()) {
    auto b = broker_options();
    args_ = {binary,
             "--HttpPort=" + std::to_string(port_),
             "--RabbitMQHost=" + b.host,
             "--RabbitMQPort=" + std::to_string(b.port),
             "--RabbitMQUser=" + b.user,
             "--RabbitMQPassword=" + b.password,
             "--RabbitMQQueue=" + queue_,
             "--RabbitMQHeartbeat=5s",
             "--GrpcPlatform=http://127.0.0.1:" + std::to_string(grpc_port),
             "--PlatformSyncInterval=500ms"};
    args_.insert(args_.end(), extra.begin(), extra.end());
    start();
  }

  void start() {
    process_.emplace(args_);
    EXPECT_TRUE(ready(20s)) << "command-service did not become ready";
  }

  void stop() {
    process_->signal(SIGTERM);
    EXPECT_EQ(process_->wait_exit(15s), 0);
    process_.reset();
  }

  // A crash: no shutdown, nothing flushed by the service.
  void kill() {
    process_->signal(SIGKILL);
    EXPECT_EQ(process_->wait_exit(5s), 128 + SIGKILL);
    process_.reset();
  }

  // Ready, and consuming: readiness alone does not wait for the broker, and an
  // event published before the queue is bound would reach no queue.
  bool ready(std::chrono::milliseconds deadline) {
    return eventually([&] {
      auto r = client().Get("/readyz");
      return r && r->status == 200
             && json::parse(r->body)["checks"]["subscriber"] == "consuming";
    }, deadline);
  }

  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", port_};
    c.set_connection_timeout(2s);
    c.set_read_timeout(5s);
    support::record_responses(c);
    return c;
  }

  json get_json(const std::string& path, int expected_status = 200) const {
    auto r = client().Get(path);
    if (!r)
      return json{{"error", "no response"}};
    EXPECT_EQ(r->status, expected_status) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  std::set<int> platform_ids() const {
    std::set<int> ids;
    auto r = client().Get("/api/c/platforms");
    if (r && r->status == 200)
      for (auto& p : json::parse(r->body))
        ids.insert(p["id"].get<int>());
    return ids;
  }

  std::size_t platform_count() const {
    auto r = client().Get("/api/c/platforms");
    return r && r->status == 200 ? json::parse(r->body).size() : 0;
  }

  bool has_platform(int id) const { return platform_ids().count(id) > 0; }

  int port() const { return port_; }

  // The value of one series in GET /metrics (0 when absent).
  double metric(const std::string& series) const {
    auto r = client().Get("/metrics");
    if (!r)
      return -1;
    auto at = r->body.find("\n" + series + " ");
    return at == std::string::npos ? 0 : std::stod(r->body.substr(at + series.size() + 2));
  }

  const std::string& queue() const { return queue_; }
  support::child_process& process() { return *process_; }

private:
  std::string queue_;
  int port_;
  std::vector<std::string> args_;
  std::optional<support::child_process> process_;
};

// A throwaway self-signed certificate for localhost / 127.0.0.1 (openssl CLI),
// removed with the object.
class self_signed {
public:
  explicit self_signed(const std::string& name)
    : dir_(std::filesystem::temp_directory_path()
           / ("command-it-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
               " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "
               + key_file() + " -out " + cert_file() + " 2>/dev/null";
    if (std::system(cmd.c_str()) != 0)
      throw std::runtime_error("failed: " + cmd);
  }
  ~self_signed() { std::filesystem::remove_all(dir_); }

  std::string cert_file() const { return (dir_ / "cert.pem").string(); }
  std::string key_file() const { return (dir_ / "key.pem").string(); }

  std::shared_ptr<grpc::ServerCredentials> server_credentials() const {
    grpc::SslServerCredentialsOptions options;
    options.pem_key_cert_pairs.push_back({read(key_file()), read(cert_file())});
    return grpc::SslServerCredentials(options);
  }

private:
  static std::string read(const std::string& path) {
    std::ifstream in{path};
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::filesystem::path dir_;
};

std::vector<std::string> drain_queue(const std::string& queue, std::size_t expected,
                                     std::chrono::milliseconds deadline = 10s) {
  amqp::connection c{broker_options()};
  c.consume(queue);
  std::vector<std::string> bodies;
  auto until = std::chrono::steady_clock::now() + deadline;
  while (bodies.size() < expected && std::chrono::steady_clock::now() < until)
    if (auto d = c.next(100ms)) {
      c.ack(d->delivery_tag);
      bodies.push_back(d->body);
    }
  return bodies;
}

double restarts(const command_service& svc) {
  auto r = svc.client().Get("/metrics");
  return r ? support::metric_total(r->body, "actor_restarts_total") : -1;
}

// {"howTo":"ok","commandLine":"ok"} with `field`'s value replaced by
// `json_value` (JSON text, written as is).
std::string command_body(const std::string& field, const std::string& json_value) {
  std::string body = "{";
  for (std::string f : {"howTo", "commandLine"})
    body.append(body.size() > 1 ? "," : "")
      .append("\"" + f + "\":")
      .append(f == field ? json_value : "\"ok\"");
  return body + "}";
}

} // namespace

TEST(command_service, the_course_inbound_test_needs_no_body_and_no_content_type) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-inbound", grpc.port()};
  const std::string course_text = "Inbound test of from Platforms Controler";
  auto cli = svc.client();
  auto bare = cli.Post("/api/c/platforms"); // Content-Length: 0, no Content-Type
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 200) << bare->body;
  EXPECT_EQ(bare->body, course_text);
  auto text = cli.Post("/api/c/platforms", "ping", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 200) << "a body is ignored whatever its type";
  EXPECT_EQ(text->body, course_text);

  // As `curl -X POST` sends it: no Content-Length, no Transfer-Encoding, so no
  // body (RFC 9112 section 6.3); answered at once, not after a read timeout.
  auto [answer, took] = support::raw_exchange(
    svc.port(), "POST /api/c/platforms HTTP/1.1\r\nHost: it\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("\r\n\r\n" + course_text), std::string::npos) << answer;
  EXPECT_LT(took, 1s);

  // A route that reads a body still wants JSON.
  auto untyped = cli.Post("/api/c/platforms/1/commands", R"({"howTo":"x","commandLine":"y"})", "");
  ASSERT_TRUE(untyped);
  EXPECT_EQ(untyped->status, 415);
  auto empty = cli.Post("/api/c/platforms/1/commands");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 415);
  svc.stop();
}

TEST(command_service, every_text_field_rule_is_a_400_naming_the_field_and_restarts_nothing) {
  grpc_platforms grpc;
  grpc.service().add(1, "Dot Net");
  command_service svc{"cmd-it-field-rules", grpc.port()};
  ASSERT_TRUE(eventually([&] { return svc.has_platform(1); }, 5s));
  auto cli = svc.client();
  auto restarts_before = restarts(svc);
  for (std::string field : {"howTo", "commandLine"}) {
    for (auto& [what, value, body_error] : support::refused_text_values()) {
      auto label = field + ": " + what;
      auto r = cli.Post("/api/c/platforms/1/commands", command_body(field, value),
                        "application/json");
      ASSERT_TRUE(r) << label;
      EXPECT_EQ(r->status, 400) << label << ": " << r->body.substr(0, 300);
      EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json") << label;
      auto errors = json::parse(r->body)["errors"];
      EXPECT_TRUE(errors.contains(body_error ? "$" : field)) << label << ": " << r->body.substr(0, 300);
      EXPECT_EQ(errors.size(), 1u) << label;
      EXPECT_EQ(support::internal_text_in(r->body), "") << label << ": " << r->body;
    }
  }
  for (std::string body : {R"({"howTo":"a","HowTo":"b","commandLine":"c"})",
                           R"({"howTo":"a","commandLine":"c","commandline":"c"})"}) {
    auto r = cli.Post("/api/c/platforms/1/commands", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body;
  }
  EXPECT_EQ(svc.get_json("/api/c/platforms/1/commands"), json::array()) << "none was stored";

  auto longest = support::longest_multibyte_value();
  std::string padded = "\u00a0 docker build . \u3000";
  auto created = cli.Post("/api/c/platforms/1/commands",
                          json{{"howTo", longest}, {"commandLine", padded}, {"id", 77},
                               {"platformId", 9}}.dump(),
                          "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto c = json::parse(created->body);
  EXPECT_EQ(c["howTo"], longest);
  EXPECT_EQ(c["commandLine"], padded) << "kept as sent";
  EXPECT_EQ(c["platformId"], 1) << "unknown fields are ignored";
  auto location = created->get_header_value("Location");
  EXPECT_EQ(svc.get_json(location), c);
  EXPECT_EQ(restarts(svc), restarts_before) << "no actor restarted for bad input";
  svc.stop();
}

TEST(command_service, every_route_answers_its_successes_and_errors) {
  grpc_platforms grpc;
  grpc.service().add(1, "Dot Net");
  command_service svc{"cmd-it-routes", grpc.port()};
  ASSERT_TRUE(eventually([&] { return svc.has_platform(1); }, 5s)) << "synced at start";
  auto cli = svc.client();

  EXPECT_EQ(svc.get_json("/api/c/platforms"), json::parse(R"([{"id":1,"name":"Dot Net"}])"));

  auto inbound = cli.Post("/api/c/platforms", R"({"id":1,"name":"Dot Net"})", "application/json");
  ASSERT_TRUE(inbound);
  EXPECT_EQ(inbound->status, 200);
  EXPECT_EQ(inbound->body, "Inbound test of from Platforms Controler");

  EXPECT_EQ(svc.get_json("/api/c/platforms/1/commands"), json::array());
  auto created = cli.Post("/api/c/platforms/1/commands",
                          R"({"HowTo":"Build a project","commandLine":"dotnet build"})",
                          "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto c = json::parse(created->body);
  EXPECT_EQ(c["howTo"], "Build a project");
  EXPECT_EQ(c["commandLine"], "dotnet build");
  EXPECT_EQ(c["platformId"], 1);
  auto location = "/api/c/platforms/1/commands/" + std::to_string(c["id"].get<int>());
  EXPECT_EQ(created->get_header_value("Location"), location);
  EXPECT_EQ(svc.get_json(location), c);
  EXPECT_EQ(svc.get_json("/api/c/platforms/1/commands"), json::array({c}));

  // 404: unknown platform or command, on every route that names one.
  auto problem = svc.get_json("/api/c/platforms/99/commands", 404);
  EXPECT_EQ(problem["status"], 404);
  EXPECT_EQ(problem["title"], "Not Found");
  svc.get_json("/api/c/platforms/99/commands/1", 404);
  svc.get_json("/api/c/platforms/1/commands/999", 404);
  auto unknown = cli.Post("/api/c/platforms/99/commands", R"({"howTo":"x","commandLine":"y"})",
                          "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(unknown->get_header_value("Content-Type"), "application/problem+json");

  // 400: ids that are not positive 32-bit integers, invalid bodies.
  svc.get_json("/api/c/platforms/abc/commands", 400);
  svc.get_json("/api/c/platforms/1/commands/0", 400);
  auto invalid = cli.Post("/api/c/platforms/1/commands", R"({"howTo":""})", "application/json");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  auto errors = json::parse(invalid->body)["errors"];
  EXPECT_TRUE(errors.contains("howTo")) << invalid->body;
  EXPECT_TRUE(errors.contains("commandLine")) << invalid->body;
  auto not_json = cli.Post("/api/c/platforms/1/commands", "{", "application/json");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);

  // 415, 413, 405.
  auto text = cli.Post("/api/c/platforms/1/commands", "howTo=x", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 415);
  auto huge = cli.Post("/api/c/platforms/1/commands",
                       R"({"howTo":")" + std::string(200'000, 'x') + R"(","commandLine":"y"})",
                       "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  auto deleted = cli.Delete("/api/c/platforms/1/commands");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 405);

  auto health = cli.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body), json::parse(R"({"status":"Healthy"})"));
  auto ready = svc.get_json("/readyz");
  EXPECT_EQ(ready["status"], "Healthy");
  EXPECT_EQ(ready["checks"]["database"], "up");
  EXPECT_EQ(ready["checks"]["subscriber"], "consuming");
  auto metrics = cli.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("http_requests_total{method=\"POST\",route=\"/api/c/platforms/{platformId}/commands\",status=\"201\"} 1"),
            std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("command_platform_syncs_total{outcome=\"ok\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("\ncommand_subscriber_consuming 1\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\nprocess_open_fds "), std::string::npos);
  EXPECT_NE(metrics->body.find("\ncommand_service_build_info{version=\""), std::string::npos);
  EXPECT_EQ(support::promtool_problems(metrics->body), "") << "promtool check metrics";
  svc.stop();
}

TEST(command_service, the_course_event_appears_via_rest_within_one_second) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-event", grpc.port()};
  publish({R"({"Id":5,"Name":"Docker","Event":"Platform_Published"})"});
  auto published = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return svc.has_platform(5); }, 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - published, 1s);
  EXPECT_EQ(svc.get_json("/api/c/platforms"), json::parse(R"([{"id":5,"name":"Docker"}])"));
  // A redelivery or a second publish of the same platform changes nothing.
  publish({event(5, "Docker"), event(6, "After")});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(6); }, 2s));
  EXPECT_EQ(svc.platform_count(), 2u);
}

// Each body a hostile or broken publisher may send: dead-lettered once, and
// the subscriber stays up. RabbitMQMaxEventBytes is raised to 1 MiB so that
// the 100,000-level bodies (200 KB and more) pass the size check and meet
// the depth check (never parsed); the one over 1 MiB is a valid event that
// would otherwise apply.
TEST(command_service, poison_messages_are_dead_lettered_once_and_the_subscriber_stays_up) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-poison", grpc.port(), {"--RabbitMQMaxEventBytes=1048576"}};
  const std::string restarts = R"(actor_restarts_total{actor="command.subscriber"})";
  const std::string rejected = R"(command_events_total{outcome="rejected"})";
  auto restarts_before = svc.metric(restarts);
  // `before`, then brackets 100,000 deep, then `after`.
  auto deep = [](std::string_view before = "", std::string_view after = "") {
    return std::string{before}.append(100'000, '[').append(100'000, ']').append(after);
  };
  std::string deep_objects;
  for (int i = 0; i < 100'000; ++i)
    deep_objects += R"({"a":)";
  deep_objects.append("1").append(100'000, '}');
  std::vector<std::string> poison = {
    "not json",
    "",
    "[1,2,3]",
    R"("Platform_Published")",
    R"({"Id":1,"Name":"no event"})",
    R"({"Event":42,"Id":1,"Name":"x"})",
    R"({"Event":"Platform_Published","Name":"no id"})",
    R"({"Event":"Platform_Published","Id":"7","Name":"id as text"})",
    R"({"Event":"Platform_Published","Id":7.5,"Name":"fractional id"})",
    R"({"Event":"Platform_Published","Id":-7,"Name":"negative id"})",
    R"({"Event":"Platform_Published","Id":0,"Name":"zero id"})",
    R"({"Event":"Platform_Published","Id":99999999999,"Name":"too large"})",
    R"({"Event":"Platform_Published","Id":18446744073709551615,"Name":"unsigned"})",
    R"({"Event":"Platform_Published","Id":7})",
    R"({"Event":"Platform_Published","Id":7,"Name":""})",
    R"({"Event":"Platform_Published","Id":7,"Name":null})",
    R"({"Event":"Platform_Published","Id":7,"id":8,"Name":"ambiguous"})",
    "{\"Event\":\"Platform_Published\",\"Id\":7,\"Name\":\"\xff\"}",
    event(8, std::string(1 << 20, 'x')), // over RabbitMQMaxEventBytes, and valid
    deep(),
    deep_objects,
    deep(R"({"Event":"Platform_Published","Name":"deep id","Id":)", "}"),
    std::string(100'000, '{'), // unclosed
  };
  auto messages = poison;
  messages.push_back(R"({"Event":"Platform_Deleted","Id":3})"); // unknown type: acked, not dead
  messages.push_back(event(10, "Good after poison"));
  publish(messages);
  ASSERT_TRUE(eventually([&] { return svc.has_platform(10); }, 5s));
  EXPECT_EQ(svc.platform_count(), 1u) << "no poison message created a platform";

  auto dead = drain_queue("cmd-it-poison.dead", poison.size());
  std::multiset<std::string> got(dead.begin(), dead.end()), sent(poison.begin(), poison.end());
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent) << "each poison message is dead-lettered, nothing else";
  EXPECT_TRUE(drain_queue("cmd-it-poison.dead", 1, 1s).empty()) << "each once";
  EXPECT_EQ(svc.metric(rejected), static_cast<double>(poison.size()));
  EXPECT_EQ(svc.metric(restarts), restarts_before) << "the subscriber was never restarted";
  EXPECT_TRUE(svc.process().wait_for_line("event=event_ignored", 2s));
  auto too_large = svc.process().wait_for_line("larger than 1048576 bytes", 1s);
  ASSERT_TRUE(too_large);
  EXPECT_NE(too_large->find("event=event_dead_lettered"), std::string::npos) << *too_large;
  EXPECT_TRUE(svc.process().wait_for_line("detail=\"nested deeper than 32 levels\"", 1s));
  auto ready = svc.get_json("/readyz");
  EXPECT_EQ(ready["checks"]["subscriber"], "consuming");
  svc.stop();
}

TEST(command_service, the_event_size_limit_is_a_setting) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-max-bytes", grpc.port(), {"--RabbitMQMaxEventBytes=100"}};
  auto small = event(11, "fits");
  auto large = event(12, std::string(100, 'x'));
  ASSERT_LE(small.size(), 100u);
  publish({large, small});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(11); }, 5s));
  EXPECT_FALSE(svc.has_platform(12));
  EXPECT_EQ(drain_queue("cmd-it-max-bytes.dead", 1), std::vector<std::string>{large});
  EXPECT_TRUE(svc.process().wait_for_line(std::string{"larger than 100 bytes: "}.append(std::to_string(large.size())),
                                          1s));
  svc.stop();
}

TEST(command_service, a_platform_the_store_refuses_is_dead_lettered_and_restarts_nothing) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-refused-event", grpc.port()};
  auto restarts_before = restarts(svc);
  // Well-formed, but no store can keep a NUL in a name (PostgreSQL's text
  // cannot hold it; SQLite would hand back "Dock").
  const std::string refused = R"({"Event":"Platform_Published","Id":7,"Name":"Dock\u0000er"})";
  publish({refused, event(8, "Good after the refusal")});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(8); }, 5s));
  EXPECT_FALSE(svc.has_platform(7));
  EXPECT_EQ(drain_queue("cmd-it-refused-event.dead", 1), std::vector<std::string>{refused});
  EXPECT_EQ(restarts(svc), restarts_before) << "neither the repository nor the subscriber failed";
  svc.stop();
}

TEST(command_service, the_subscriber_survives_a_broker_kill_and_loses_nothing) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-broker", grpc.port()};
  publish({event(1, "before")});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(1); }, 2s));

  auto& broker = support::rabbitmq();
  broker.kill();
  ASSERT_TRUE(eventually([&] {
    auto r = svc.client().Get("/readyz");
    return r && r->status == 200
           && json::parse(r->body)["checks"]["subscriber"] == "reconnecting";
  }, 12s)) << "the subscriber notices the dead broker, and the service stays ready";
  EXPECT_EQ(svc.metric("command_subscriber_consuming"), 0);
  auto failed = svc.process().wait_for_line("actor=command.subscriber event=failed", 1s);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->find("action=reconnecting"), std::string::npos) << *failed;
  EXPECT_EQ(svc.platform_count(), 1u) << "reads still answer without the broker";
  broker.start();
  // Published while the subscriber is still away (in its backoff).
  std::vector<std::string> meanwhile;
  for (int id = 100; id < 150; ++id)
    meanwhile.push_back(event(id, "meanwhile " + std::to_string(id)));
  publish(meanwhile);
  ASSERT_TRUE(svc.ready(30s)) << "the subscriber came back";
  EXPECT_EQ(svc.metric("command_subscriber_consuming"), 1);
  ASSERT_TRUE(eventually([&] { return svc.platform_count() == 51; }, 10s))
    << "got " << svc.platform_count();
  for (int id = 100; id < 150; ++id)
    EXPECT_TRUE(svc.has_platform(id)) << id;
  EXPECT_TRUE(svc.process().wait_for_line("event=child_restarted child=command.subscriber", 1s));
  svc.stop();
}

TEST(command_service, events_published_while_the_service_is_down_arrive_exactly_once) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-down", grpc.port()};
  svc.stop();
  std::vector<std::string> events;
  for (int id = 1; id <= 100; ++id)
    events.push_back(event(id, "platform " + std::to_string(id)));
  publish(events);
  svc.start();
  ASSERT_TRUE(eventually([&] { return svc.platform_count() >= 100; }, 10s))
    << "got " << svc.platform_count();
  auto body = svc.get_json("/api/c/platforms");
  std::multiset<int> ids;
  for (auto& p : body)
    ids.insert(p["id"].get<int>());
  EXPECT_EQ(ids.size(), 100u);
  for (int id = 1; id <= 100; ++id)
    EXPECT_EQ(ids.count(id), 1u) << id;
  svc.stop();
}

TEST(command_service, a_platform_only_the_grpc_server_knows_appears_through_periodic_sync) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-sync", grpc.port()};
  ASSERT_TRUE(svc.process().wait_for_line("event=synced", 5s));
  EXPECT_FALSE(svc.has_platform(42));
  grpc.service().add(42, "Never published"); // as if inserted straight into its database
  ASSERT_TRUE(eventually([&] { return svc.has_platform(42); }, 3s))
    << "PlatformSyncInterval is 500ms";
  EXPECT_EQ(svc.platform_count(), 1u);
  svc.stop();
}

TEST(command_service, the_trace_of_an_event_and_of_a_request_is_on_their_lines) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-trace", grpc.port()};
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string parent = "00-" + trace_id + "-00f067aa0ba902b7-01";
  publish({event(61, "traced")}, "req-traced-61", parent);
  auto line = svc.process().wait_for_line("request_id=req-traced-61", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("event=event_applied"), std::string::npos) << *line;
  EXPECT_NE(line->find("trace_id=" + trace_id + " span_id="), std::string::npos) << *line;
  EXPECT_EQ(line->find("span_id=00f067aa0ba902b7"), std::string::npos)
    << "the service's own span of the trace: " << *line;

  // The course's inbound POST: the request's span, told back as traceresponse.
  auto c = svc.client();
  auto r = c.Post("/api/c/platforms", {{"traceparent", parent}, {"X-Request-Id", "req-inbound"}},
                  "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto response = r->get_header_value("traceresponse");
  ASSERT_EQ(response.size(), 55u) << response;
  EXPECT_EQ(response.substr(0, 36), "00-" + trace_id + "-");
  auto inbound = svc.process().wait_for_line("request_id=req-inbound", 5s);
  ASSERT_TRUE(inbound);
  EXPECT_NE(inbound->find("trace_id=" + trace_id + " span_id=" + response.substr(36, 16)),
            std::string::npos) << *inbound;
  svc.stop();
}

TEST(command_service, request_ids_from_the_bus_are_on_every_line_about_the_event) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-request-id", grpc.port(), {"--LogLevel=debug"}};
  publish({event(31, "traced")}, "req-applied-31");
  publish({event(31, "traced again")}, "req-duplicate-31");
  publish({R"({"Event":"Platform_Deleted","Id":31})"}, "req-ignored");
  publish({"not json"}, "req-poison");
  publish({event(32, "untraced")}); // no correlation id: no request_id field
  ASSERT_TRUE(eventually([&] { return svc.has_platform(32); }, 5s));

  auto& p = svc.process();
  auto line_of = [&](const std::string& needle) {
    return p.wait_for_line(needle, 2s).value_or("(no line with " + needle + ")");
  };
  EXPECT_NE(line_of("event=event_applied").find("request_id=req-applied-31"), std::string::npos);
  EXPECT_NE(line_of("event=event_duplicate").find("request_id=req-duplicate-31"),
            std::string::npos);
  EXPECT_NE(line_of("event=event_ignored").find("request_id=req-ignored"), std::string::npos);
  EXPECT_NE(line_of("event=event_dead_lettered").find("request_id=req-poison"),
            std::string::npos);
  auto untraced = line_of("detail=\"platform 32\"");
  EXPECT_NE(untraced.find("event=event_applied"), std::string::npos) << untraced;
  EXPECT_EQ(untraced.find("request_id="), std::string::npos) << untraced;
  // Every subscriber line about platform 31's deliveries carries one of its ids.
  for (auto& line : p.lines()) {
    if (line.find("actor=command.subscriber") != std::string::npos
        && line.find("platform 31") != std::string::npos) {
      EXPECT_NE(line.find("request_id=req-"), std::string::npos) << line;
    }
  }
  svc.stop();
}

TEST(command_service, the_postgresql_store_serves_events_and_commands_and_keeps_them) {
  grpc_platforms grpc; // knows no platform: whatever survives comes from PostgreSQL
  auto& pg = support::postgres();
  pg.create_database("command_service_it");
  command_service svc{"cmd-it-postgres", grpc.port(),
                      {"--ConnectionStrings__CommandsConn="
                       + pg.connection_string("command_service_it")}};
  publish({event(21, "Kept in PostgreSQL")});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(21); }, 3s));
  auto created = svc.client().Post("/api/c/platforms/21/commands",
                                   R"({"howTo":"list","commandLine":"ls"})", "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto command = json::parse(created->body);
  svc.get_json("/api/c/platforms/22/commands", 404);

  svc.stop();
  svc.start();
  EXPECT_EQ(svc.get_json("/api/c/platforms"), json::parse(R"([{"id":21,"name":"Kept in PostgreSQL"}])"));
  EXPECT_EQ(svc.get_json("/api/c/platforms/21/commands"), json::array({command}));
  publish({event(21, "redelivered"), event(22, "after the restart")});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(22); }, 3s));
  EXPECT_EQ(svc.platform_count(), 2u) << "the repeated platform is not added twice";
  svc.stop();
}

// deploy/postgres/roles.sh, as the stack, compose and Kubernetes run it, on
// the fixture's server (which trusts loopback: the roles get no password).
void make_service_roles(support::postgres_server& pg) {
  auto command = std::string{"PGHOST="}.append(pg.host())
                   .append(" PGPORT=").append(std::to_string(pg.port()))
                   .append(" PGUSER=postgres sh " ROLES_SCRIPT_PATH);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

std::string as_role(const support::postgres_server& pg, const std::string& role) {
  return std::string{"host="}.append(pg.host()).append(" port=").append(std::to_string(pg.port()))
    .append(" dbname=").append(role).append(" user=").append(role).append(" connect_timeout=3");
}

TEST(command_service, its_own_role_and_database_keep_every_command_across_a_kill) {
  grpc_platforms grpc; // knows no platform: whatever survives comes from PostgreSQL
  auto& pg = support::postgres();
  pg.create_database("commands"); // fresh, owned by postgres until the script runs
  make_service_roles(pg);
  make_service_roles(pg); // idempotent: every stack start runs it
  {
    soci::session admin{soci::postgresql, pg.connection_string()};
    int super = 1, create_db = 1, create_role = 1;
    admin << "select rolsuper::int, rolcreatedb::int, rolcreaterole::int from pg_roles "
             "where rolname = 'commands'",
      soci::into(super), soci::into(create_db), soci::into(create_role);
    EXPECT_EQ(super + create_db + create_role, 0) << "the role holds only what it needs";
    std::string owner;
    admin << "select pg_get_userbyid(datdba) from pg_database where datname = 'commands'",
      soci::into(owner);
    EXPECT_EQ(owner, "commands");
  }
  auto foreign = as_role(pg, "commands");
  foreign.replace(foreign.find("dbname=commands"), 15, "dbname=platforms");
  EXPECT_THROW((soci::session{soci::postgresql, foreign}), soci::soci_error)
    << "the command service's role may not connect to the platform service's database";

  command_service svc{"cmd-it-own-role", grpc.port(),
                      {"--ConnectionStrings__CommandsConn=" + as_role(pg, "commands")}};
  publish({event(31, "Kept across a kill")});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(31); }, 3s));
  json created = json::array();
  for (int i = 0; i < 50; ++i) {
    auto r = svc.client().Post("/api/c/platforms/31/commands",
                               json{{"howTo", "step " + std::to_string(i)}, {"commandLine", "run"}}.dump(),
                               "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    created.push_back(json::parse(r->body));
  }
  svc.kill();
  svc.start();
  EXPECT_EQ(svc.get_json("/api/c/platforms/31/commands"), created);
  svc.stop();
}

TEST(command_service, a_constraint_only_postgresql_enforces_is_a_400_that_restarts_nothing) {
  grpc_platforms grpc;
  grpc.service().add(1, "Dot Net");
  auto& pg = support::postgres();
  pg.create_database("command_service_it_refusal");
  auto connection = pg.connection_string("command_service_it_refusal");
  command_service svc{"cmd-it-refusal", grpc.port(),
                      {"--ConnectionStrings__CommandsConn=" + connection}};
  ASSERT_TRUE(eventually([&] { return svc.has_platform(1); }, 5s));
  {
    soci::session sql{soci::postgresql, connection};
    sql << "ALTER TABLE commands ADD CONSTRAINT it_no_forbidden CHECK (how_to <> 'forbidden')";
  }
  auto cli = svc.client();
  auto restarts_before = restarts(svc);
  for (int i = 0; i < 3; ++i) {
    auto id = std::string{"cmd-it-refused-"}.append(std::to_string(i));
    auto r = cli.Post("/api/c/platforms/1/commands", {{"X-Request-Id", id}},
                      R"({"howTo":"forbidden","commandLine":"c"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    auto p = json::parse(r->body);
    EXPECT_EQ(p["detail"], "The values were refused by the service's rules.");
    EXPECT_EQ(p["traceId"], id);
    EXPECT_EQ(support::internal_text_in(r->body), "") << r->body;
  }
  auto line = svc.process().wait_for_line("request_id=cmd-it-refused-0", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("event=request_refused"), std::string::npos) << *line;
  EXPECT_NE(line->find("SQLSTATE 23514"), std::string::npos) << *line;
  EXPECT_EQ(restarts(svc), restarts_before) << "the repository kept its session";
  auto ok = cli.Post("/api/c/platforms/1/commands", R"({"howTo":"allowed","commandLine":"c"})",
                     "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  svc.stop();
}

TEST(command_service, a_store_that_fails_is_a_503_problem_and_the_service_not_ready) {
  grpc_platforms grpc;
  auto& pg = support::postgres();
  pg.create_database("command_service_it_outage");
  // A short RequestTimeout: both calls below are answered well before the
  // repository's restarts (it cannot reopen its session) exhaust their budget.
  command_service svc{"cmd-it-store-outage", grpc.port(),
                      {"--ConnectionStrings__CommandsConn="
                         + pg.connection_string("command_service_it_outage"),
                       "--RequestTimeout=500ms"}};
  svc.get_json("/api/c/platforms/1/commands", 404);

  pg.stop();
  auto failed = svc.client().Get("/api/c/platforms/1/commands");
  auto ready = svc.client().Get("/readyz");
  pg.start(); // before asserting: the tests after this one need it
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503) << failed->body;
  EXPECT_EQ(failed->get_header_value("Content-Type"), "application/problem+json");
  auto problem = json::parse(failed->body);
  EXPECT_EQ(problem["status"], 503);
  EXPECT_EQ(problem["title"], "Service Unavailable");
  EXPECT_EQ(problem["detail"], "The service could not complete the request in time; retry later.");
  EXPECT_EQ(problem["traceId"], failed->get_header_value("X-Request-Id"));
  EXPECT_EQ(support::internal_text_in(failed->body), "") << failed->body;
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << ready->body;
  auto readiness = json::parse(ready->body);
  EXPECT_EQ(readiness["status"], "Unhealthy");
  EXPECT_NE(readiness["checks"]["database"], "up");
  EXPECT_EQ(readiness["checks"]["subscriber"], "consuming");
}

TEST(command_service, platform_sync_runs_over_tls_with_the_configured_ca_and_fails_without_it) {
  self_signed server_cert{"grpc"}, other_cert{"other"};
  grpc_platforms grpc{server_cert.server_credentials()};
  grpc.service().add(7, "Over TLS");
  auto address = "--GrpcPlatform=https://localhost:" + std::to_string(grpc.port());

  command_service trusted{"cmd-it-tls", grpc.port(),
                          {address, "--GrpcPlatformCaFile=" + server_cert.cert_file()}};
  ASSERT_TRUE(eventually([&] { return trusted.has_platform(7); }, 5s));
  EXPECT_TRUE(trusted.process().wait_for_line("event=synced", 1s));
  trusted.stop();

  command_service wrong_ca{"cmd-it-tls-wrong-ca", grpc.port(),
                           {address, "--GrpcPlatformCaFile=" + other_cert.cert_file()}};
  EXPECT_TRUE(wrong_ca.process().wait_for_line("event=sync_failed", 5s))
    << "a server certificate the CA did not sign is refused";
  EXPECT_FALSE(wrong_ca.has_platform(7));
  wrong_ca.stop();

  // `system`, the deployments' value: the system's trust store, which does
  // not hold the test's self-signed CA.
  command_service system_roots{"cmd-it-tls-system", grpc.port(),
                               {address, "--GrpcPlatformCaFile=system"}};
  EXPECT_TRUE(system_roots.process().wait_for_line("event=sync_failed", 5s));
  EXPECT_FALSE(system_roots.has_platform(7));
  system_roots.stop();

  command_service plaintext{"cmd-it-tls-plain", grpc.port()}; // http:// to a TLS server
  EXPECT_TRUE(plaintext.process().wait_for_line("event=sync_failed", 5s));
  EXPECT_FALSE(plaintext.has_platform(7));
  plaintext.stop();
}

TEST(command_service, an_unreadable_ca_file_stops_the_start_with_the_setting_named) {
  support::child_process p{{binary, "--HttpPort=" + std::to_string(free_port()),
                            "--GrpcPlatform=https://localhost:1",
                            "--GrpcPlatformCaFile=/nonexistent/ca.pem"}};
  auto code = p.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(p.wait_for_line("GrpcPlatformCaFile", 1s));
}

TEST(command_service, a_silently_dropped_broker_link_is_noticed_by_heartbeats_within_two_intervals) {
  grpc_platforms grpc;
  auto& b = support::rabbitmq();
  support::tcp_proxy link{b.host(), b.port()};
  const auto heartbeat = 5s;
  command_service svc{"cmd-it-heartbeat", grpc.port(),
                      {"--RabbitMQPort=" + std::to_string(link.port()), "--RabbitMQHeartbeat=5s"}};
  publish({event(41, "before the drop")});
  ASSERT_TRUE(eventually([&] { return svc.has_platform(41); }, 3s));
  auto from_line = svc.process().lines().size();

  link.black_hole(); // no FIN, no RST: only missing heartbeats can tell
  auto dropped = std::chrono::steady_clock::now();
  auto failed = svc.process().wait_for_line("actor=command.subscriber event=failed",
                                            2 * heartbeat + 2s, from_line);
  auto noticed = std::chrono::steady_clock::now() - dropped;
  ASSERT_TRUE(failed) << "the subscriber did not notice the silent link";
  EXPECT_NE(failed->find("heartbeat"), std::string::npos) << *failed;
  // rabbitmq-c gives up 2 heartbeats after the last frame it read; the poll
  // loop adds at most its 200 ms.
  EXPECT_LE(noticed, 2 * heartbeat + 500ms);

  // The restarted subscriber connects again (a new link is forwarded).
  ASSERT_TRUE(svc.ready(20s));
  EXPECT_GE(link.links_opened(), 2);
  publish({event(42, "after the drop")});
  EXPECT_TRUE(eventually([&] { return svc.has_platform(42); }, 5s));
  svc.stop();
}

namespace {

// Far over gRPC's default 4 MiB as one GetAllPlatforms answer.
constexpr int large_catalogue = 150'000;

// GET /api/c/platforms with a read timeout for 150,000 of them.
httplib::Result list_platforms(const command_service& svc) {
  auto c = svc.client();
  c.set_read_timeout(10s);
  return c.Get("/api/c/platforms");
}

std::set<int> ids_in(const httplib::Result& listed) {
  std::set<int> ids;
  if (listed && listed->status == 200)
    for (auto& p : json::parse(listed->body))
      ids.insert(p["id"].get<int>());
  return ids;
}

std::set<int> listed_ids(const command_service& svc) {
  return ids_in(list_platforms(svc));
}

std::set<int> ids_from_1_to(int last) {
  std::set<int> ids;
  for (int id = 1; id <= last; ++id)
    ids.insert(ids.end(), id);
  return ids;
}

long long ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
    .count();
}

} // namespace

// The goal, 150,000 platforms learned within 2 s of readiness, is measured by
// bench/run on a quiet machine; here, on a machine shared with the rest of
// the suite, the test asserts that the stream teaches all of them promptly.
TEST(platform_sync, a_restarted_service_learns_150000_platforms_through_the_stream) {
  platform_it::service_options options;
  options.database = "command_it_catalogue";
  platform_it::service_process platforms{options};
  ASSERT_TRUE(platforms.wait_ready());
  // The deployments' interval: the syncs measured are the ones a start makes.
  command_service svc{"cmd-it-catalogue", platforms.grpc_port(), {"--PlatformSyncInterval=30s"}};
  ASSERT_TRUE(eventually([&] { return svc.platform_count() == 3; }, 5s)) << "the course's seed";
  svc.stop();

  {
    soci::session sql(soci::postgresql,
                      support::postgres().connection_string("command_it_catalogue"));
    sql << "INSERT INTO platforms (name, publisher, cost) SELECT 'platform-' || g,"
           " 'publisher-' || g, 'Free' FROM generate_series(1, " << large_catalogue << ") g";
  }
  svc.start(); // returns once ready
  auto ready = std::chrono::steady_clock::now();
  const auto promptly = 5s * support::sanitizer_slowdown;
  auto synced = svc.process().wait_for_line("event=synced", promptly);
  ASSERT_TRUE(synced) << "no sync within " << promptly.count() << " s of readiness";
  auto synced_ms = ms_since(ready);
  auto listed = list_platforms(svc);
  auto learned_ms = ms_since(ready);
  auto ids = ids_in(listed);
  EXPECT_EQ(ids, ids_from_1_to(large_catalogue + 3));
  EXPECT_LT(learned_ms, std::chrono::milliseconds{promptly}.count()) << *synced;
  EXPECT_NE(synced->find("method=StreamAllPlatforms"), std::string::npos) << *synced;
  EXPECT_NE(synced->find("fetched=150003"), std::string::npos) << *synced;
  std::printf("restarted command-service: synced %lld ms and listed %zu platforms %lld ms after"
              " readiness (%s)\n", synced_ms, ids.size(), learned_ms, synced->c_str());
  svc.stop();
}

TEST(platform_sync, a_peer_without_the_stream_is_read_with_get_all_platforms_up_to_the_limit) {
  grpc_platforms grpc; // the course's service: StreamAllPlatforms is UNIMPLEMENTED
  for (int id = 1; id <= large_catalogue; ++id)
    grpc.service().add(id, "platform-" + std::to_string(id));

  command_service svc{"cmd-it-fallback", grpc.port()};
  auto synced = svc.process().wait_for_line("event=synced", 10s);
  ASSERT_TRUE(synced);
  EXPECT_NE(synced->find("method=GetAllPlatforms"), std::string::npos) << *synced;
  EXPECT_EQ(listed_ids(svc), ids_from_1_to(large_catalogue));
  svc.stop();

  // The same answer past GrpcPlatformMaxMessageBytes is refused, and said so.
  command_service limited{"cmd-it-fallback-limit", grpc.port(),
                          {"--GrpcPlatformMaxMessageBytes=1048576"}};
  auto failed = limited.process().wait_for_line("event=sync_failed", 10s);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->find("GetAllPlatforms"), std::string::npos) << *failed;
  EXPECT_NE(failed->find("gRPC status 8"), std::string::npos) << *failed; // RESOURCE_EXHAUSTED
  EXPECT_EQ(limited.platform_count(), 0u);
  limited.stop();
}

TEST(platform_sync, a_stream_that_stalls_fails_after_the_deadline_and_keeps_the_pages_it_got) {
  grpc_peer<stalling_stream_service> grpc;
  command_service svc{"cmd-it-stall", grpc.port(), {"--GrpcDeadline=300ms"}};
  auto failed = svc.process().wait_for_line("event=sync_failed", 5s);
  ASSERT_TRUE(failed);
  EXPECT_NE(failed->find("StreamAllPlatforms"), std::string::npos) << *failed;
  EXPECT_NE(failed->find("no page within 300ms"), std::string::npos) << *failed;
  ASSERT_GT(grpc.service().sent(), 0);
  EXPECT_EQ(listed_ids(svc), ids_from_1_to(grpc.service().sent()))
    << "the first page was committed";
  svc.stop();
}

namespace {

std::size_t lines_with(command_service& svc, const std::string& needle) {
  auto lines = svc.process().lines();
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](auto& l) {
    return l.find(needle) != std::string::npos;
  }));
}

std::vector<std::string> events_from(int first, int last) {
  std::vector<std::string> events;
  for (int id = first; id <= last; ++id)
    events.push_back(event(id, "replicated " + std::to_string(id)));
  return events;
}

} // namespace

// Two replicas on one PostgreSQL database and one queue: they start at once
// (the schema is created once), share the events as competing consumers,
// apply a repeated event once, see each other's commands, and a rolling
// restart of one loses nothing.
TEST(command_service, two_replicas_on_one_database_share_the_queue_and_lose_nothing_in_a_rolling_restart) {
  grpc_platforms grpc;
  auto& pg = support::postgres();
  pg.create_database("command_service_it_replicas");
  std::vector<std::string> flags{"--ConnectionStrings__CommandsConn="
                                 + pg.connection_string("command_service_it_replicas"),
                                 "--RabbitMQPrefetch=16"};
  auto start = [&] { return std::make_unique<command_service>("cmd-it-replicas", grpc.port(), flags); };
  auto a_started = std::async(std::launch::async, start);
  auto b_started = std::async(std::launch::async, start);
  auto a = a_started.get();
  auto b = b_started.get();

  publish(events_from(1, 400));
  publish(events_from(1, 50)); // the same events again: applied once
  ASSERT_TRUE(eventually([&] { return a->platform_count() == 400; }, 20s)) << a->platform_count();
  auto applied_a = lines_with(*a, "event=event_applied");
  auto applied_b = lines_with(*b, "event=event_applied");
  std::cerr << "applied: replica a " << applied_a << ", replica b " << applied_b << "\n";
  EXPECT_GT(applied_a, 0u) << "competing consumers: both take events";
  EXPECT_GT(applied_b, 0u) << "competing consumers: both take events";
  EXPECT_EQ(applied_a + applied_b, 400u) << "each platform applied once";
  EXPECT_EQ(b->platform_ids(), ids_from_1_to(400));

  auto made = a->client().Post("/api/c/platforms/7/commands", R"({"howTo":"on a","commandLine":"a"})",
                               "application/json");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 201) << made->body;
  EXPECT_EQ(b->get_json("/api/c/platforms/7/commands"), json::array({json::parse(made->body)}));

  // Rolling restart of a, with events arriving all along.
  auto publisher = std::async(std::launch::async, [] {
    for (int first = 401; first <= 700; first += 50) {
      publish(events_from(first, first + 49));
      std::this_thread::sleep_for(100ms);
    }
  });
  a->stop();
  a->start();
  publisher.get();
  EXPECT_TRUE(eventually([&] { return a->platform_count() == 700; }, 20s)) << a->platform_count();
  EXPECT_EQ(a->platform_ids(), ids_from_1_to(700));
  EXPECT_EQ(a->get_json("/api/c/platforms/7/commands"), json::array({json::parse(made->body)}));
  a->stop();
  b->stop();
}

// Events that arrived together commit together (one transaction a batch) and
// are acked in runs; each keeps its line, and none is left unacked.
TEST(command_service, events_queued_before_the_start_commit_in_batches_and_every_one_is_acked) {
  grpc_platforms grpc;
  command_service svc{"cmd-it-batches", grpc.port(), {"--LogLevel=debug"}};
  svc.stop();
  publish(events_from(1, 500));
  svc.start();
  ASSERT_TRUE(eventually([&] { return svc.platform_count() == 500; }, 10s)) << svc.platform_count();
  EXPECT_EQ(svc.platform_ids(), ids_from_1_to(500));
  EXPECT_EQ(lines_with(svc, "event=event_applied"), 500u) << "each event keeps its line";
  std::size_t batches = 0;
  std::size_t events = 0;
  for (auto& line : svc.process().lines())
    if (auto at = line.find("event=batch_settled events="); at != std::string::npos) {
      ++batches;
      events += std::stoul(line.substr(at + 27));
    }
  EXPECT_EQ(events, 500u);
  EXPECT_GT(batches, 0u);
  EXPECT_LT(batches, 250u) << "500 events queued before the start go in batches, not one by one";
  svc.stop();
  svc.start(); // its in-memory store starts empty: a redelivery would be applied again
  const std::string applied = R"(command_events_total{outcome="applied"})";
  EXPECT_FALSE(eventually([&] { return svc.metric(applied) > 0; }, 1s))
    << "every delivery was acked before the stop";
  svc.stop();
}

// RabbitMQAddresses: with RabbitMQHost:RabbitMQPort unreachable (a cluster
// node that died), the subscriber connects to the next address.
TEST(command_service, the_next_of_rabbitmq_addresses_is_used_when_the_first_broker_is_unreachable) {
  grpc_platforms grpc;
  auto& b = support::rabbitmq();
  command_service svc{"cmd-it-addresses", grpc.port(),
                      {"--RabbitMQPort=" + std::to_string(free_port()),
                       "--RabbitMQAddresses=" + b.host() + ":" + std::to_string(b.port())}};
  auto consuming = svc.process().wait_for_line("actor=command.subscriber event=consuming", 10s);
  ASSERT_TRUE(consuming);
  EXPECT_NE(consuming->find("broker=" + b.host() + ":" + std::to_string(b.port())), std::string::npos)
    << *consuming;
  publish({event(51, "through the second address")});
  EXPECT_TRUE(eventually([&] { return svc.has_platform(51); }, 5s));
  svc.stop();
}
