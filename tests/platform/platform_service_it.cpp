// The real platform-service binary, driven through its real ports, against
// the fixture's real PostgreSQL and RabbitMQ.
#include <promtool.hpp>
#include <service_process.hpp>

#include <actors/trace.hpp>

#include <amqp_options.hpp>
#include <eventually.hpp>
#include <hostile_input.hpp>
#include <sanitizers.hpp>
#include <shared/amqp/connection.hpp>
#include <shared/amqp/topology.hpp>

#include <google/protobuf/descriptor.pb.h>
#include <grpc/health/v1/health.grpc.pb.h>
#include <grpc/reflection/v1alpha/reflection.grpc.pb.h>
#include <grpcpp/grpcpp.h>
#include <platforms.grpc.pb.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
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

std::shared_ptr<grpc::Channel> channel_to(const service_process& service) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(service.grpc_port()),
                                   grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> grpc_context(std::chrono::seconds deadline = 10s) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  return ctx;
}

httplib::Result post_json(httplib::Client& c, const std::string& body,
                          httplib::Headers headers = {}) {
  return c.Post("/api/platforms", headers, body, "application/json");
}

// The series of the relay's restarts, and whether `service`'s relay took the lead.
const std::string relay_restarts = R"(actor_restarts_total{actor="platform.outbox_relay"})";

bool relay_leads(service_process& service) {
  return static_cast<bool>(
    service.process().wait_for_line("actor=platform.outbox_relay event=leading", 5s));
}

// A second replica on `leader`'s database (started with `o`), once `leader`'s
// relay leads: it stands by. Null when any step did not happen.
std::unique_ptr<service_process> standby_for(service_process& leader, platform_it::service_options o) {
  if (!leader.wait_ready() || !relay_leads(leader))
    return nullptr;
  o.fresh_database = false;
  auto standby = std::make_unique<service_process>(o);
  bool stands_by = standby->wait_ready()
                   && standby->process().wait_for_line("actor=platform.outbox_relay event=standby", 5s);
  return stands_by ? std::move(standby) : nullptr;
}

// Three creates on `via`, one at a time: each event is on the broker (read
// by `reader`) within a second of its 201, whatever the relay's poll interval.
void expect_each_create_published_within_a_second(service_process& via,
                                                  platform_it::queue_reader& reader,
                                                  const char* name) {
  auto c = via.http();
  for (int i = 0; i < 3; ++i) {
    auto r = post_json(c, json{{"name", numbered(name, i)}, {"publisher", "x"}, {"cost", "y"}}.dump());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    auto posted = std::chrono::steady_clock::now();
    auto got = reader.take(1, 5s);
    ASSERT_EQ(got.size(), 1u) << "event " << i << " not published within 5 s";
    EXPECT_EQ(json::parse(got[0].body)["Id"], body_of(r)["id"]);
    EXPECT_LT(std::chrono::steady_clock::now() - posted, 1s) << "event " << i;
  }
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

namespace {

double restarts(service_process& service) {
  auto r = service.http().Get("/metrics");
  return r ? support::metric_total(r->body, "actor_restarts_total") : -1;
}

// {"name":"ok","publisher":"ok","cost":"ok"} with `field`'s value replaced
// by `json_value` (JSON text, written as is).
std::string platform_body(const std::string& field, const std::string& json_value) {
  std::string body = "{";
  for (std::string f : {"name", "publisher", "cost"})
    body.append(body.size() > 1 ? "," : "")
      .append("\"" + f + "\":")
      .append(f == field ? json_value : "\"ok\"");
  return body + "}";
}

std::size_t platform_count(service_process& service) {
  auto r = service.http().Get("/api/platforms");
  return r && r->status == 200 ? body_of(r).size() : 0;
}

} // namespace

TEST_F(rest_api, every_text_field_rule_is_a_400_naming_the_field_and_restarts_nothing) {
  auto c = service->http();
  auto restarts_before = restarts(*service);
  auto count_before = platform_count(*service);
  for (std::string field : {"name", "publisher", "cost"}) {
    for (auto& [what, value, body_error] : support::refused_text_values()) {
      auto r = post_json(c, platform_body(field, value));
      auto label = field + ": " + what;
      expect_problem(r, 400, label);
      if (!r)
        continue;
      auto errors = body_of(r)["errors"];
      EXPECT_TRUE(errors.contains(body_error ? "$" : field))
        << label << ": " << r->body.substr(0, 300);
      EXPECT_EQ(errors.size(), 1u) << label << ": only that field";
      EXPECT_EQ(support::internal_text_in(r->body), "") << label << ": " << r->body;
    }
  }
  for (std::string body : {R"({"name":"a","Name":"b","publisher":"p","cost":"c"})",
                           R"({"name":"a","publisher":"p","cost":"c","COST":"c"})",
                           R"({"name":"a","publisher":"p","cost":"c","x":{"k":1,"K":2}})"}) {
    auto r = post_json(c, body);
    expect_problem(r, 400, body);
  }
  // The issue's request: a name of one NUL was a 503 quoting PostgreSQL and
  // restarted a repository member.
  auto nul = post_json(c, R"({"name":"\u0000","publisher":"p","cost":"c"})");
  expect_problem(nul, 400, "NUL name");
  EXPECT_EQ(body_of(nul)["errors"]["name"][0],
            "The name field must not contain control characters (U+0000 at character 1).");
  EXPECT_EQ(platform_count(*service), count_before) << "none was stored";
  EXPECT_EQ(restarts(*service), restarts_before) << "no actor restarted for bad input";
}

TEST_F(rest_api, unknown_fields_are_ignored_and_values_are_kept_exactly_as_sent) {
  auto c = service->http();
  auto longest = support::longest_multibyte_value(); // 200 code points, 700 bytes
  std::string padded = "\u00a0 Free \u3000";           // not trimmed: only the blank check trims
  auto r = post_json(c, json{{"name", longest}, {"publisher", longest}, {"cost", padded},
                             {"id", 99}, {"extra", {{"nested", true}}}}.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto created = body_of(r);
  EXPECT_NE(created["id"], 99) << "the id is the database's";
  EXPECT_EQ(created["name"], longest);
  EXPECT_EQ(created["cost"], padded);
  EXPECT_FALSE(created.contains("extra"));
  soci::session sql{soci::postgresql, support::postgres().connection_string("it_rest")};
  std::string name, publisher, cost;
  int id = created["id"];
  sql << "SELECT name, publisher, cost FROM platforms WHERE id = :id", soci::use(id),
    soci::into(name), soci::into(publisher), soci::into(cost);
  EXPECT_EQ(name, longest) << "stored exactly";
  EXPECT_EQ(publisher, longest);
  EXPECT_EQ(cost, padded);
}

TEST_F(rest_api, a_constraint_only_the_database_enforces_is_a_400_that_restarts_nothing) {
  soci::session sql{soci::postgresql, support::postgres().connection_string("it_rest")};
  sql << "ALTER TABLE platforms ADD CONSTRAINT it_no_forbidden CHECK (name <> 'forbidden')";
  struct drop_on_exit {
    soci::session& sql;
    ~drop_on_exit() { sql << "ALTER TABLE platforms DROP CONSTRAINT it_no_forbidden"; }
  } drop{sql};
  auto c = service->http();
  auto restarts_before = restarts(*service);
  // More refusals than the pool has members: each member meets one.
  for (int i = 0; i < 8; ++i) {
    auto id = numbered("it-refused-", i);
    auto r = post_json(c, R"({"name":"forbidden","publisher":"p","cost":"c"})",
                       {{"X-Request-Id", id}});
    expect_problem(r, 400, id);
    if (!r)
      continue;
    auto p = body_of(r);
    EXPECT_EQ(p["detail"], "The values were refused by the service's rules.") << r->body;
    EXPECT_EQ(p["traceId"], id);
    EXPECT_EQ(support::internal_text_in(r->body), "") << r->body;
  }
  auto line = service->process().wait_for_line("request_id=it-refused-0", 10s);
  ASSERT_TRUE(line) << "the refusal is logged with the request id";
  EXPECT_NE(line->find("event=request_refused"), std::string::npos) << *line;
  EXPECT_NE(line->find("SQLSTATE 23514"), std::string::npos) << "the database's reason: " << *line;
  EXPECT_EQ(restarts(*service), restarts_before) << "no repository member failed";
  auto ok = post_json(c, R"({"name":"allowed","publisher":"p","cost":"c"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
}

TEST_F(rest_api, health_readiness_and_metrics) {
  auto c = service->http();
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(body_of(h), json({{"status", "Healthy"}})) << "the same body in both services";
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r), json({{"status", "Healthy"}, {"checks", {{"database", "up"}}}}));
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
  EXPECT_NE(m->body.find("http_request_duration_seconds_bucket{route=\"/api/platforms/{id}\",le=\"0.1\"}"),
            std::string::npos) << "bounds as written in queries";
  EXPECT_NE(m->body.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(m->body.find("\nplatform_service_build_info{version=\""), std::string::npos);
  EXPECT_EQ(support::promtool_problems(m->body), "") << "promtool check metrics";
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

TEST_F(rest_api, grpc_health_service_answers_for_the_server_and_grpc_platform) {
  using grpc::health::v1::HealthCheckRequest;
  using grpc::health::v1::HealthCheckResponse;
  auto health = grpc::health::v1::Health::NewStub(channel_to(*service));
  for (std::string name : {"", "GrpcPlatform"}) {
    HealthCheckRequest req;
    req.set_service(name);
    HealthCheckResponse res;
    auto status = health->Check(grpc_context().get(), req, &res);
    ASSERT_TRUE(status.ok()) << "'" << name << "': " << status.error_message();
    EXPECT_EQ(res.status(), HealthCheckResponse::SERVING) << "'" << name << "'";
  }
  HealthCheckRequest unknown;
  unknown.set_service("NoSuchService");
  HealthCheckResponse ignored;
  EXPECT_EQ(health->Check(grpc_context().get(), unknown, &ignored).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(rest_api, grpc_reflection_lists_the_services_and_describes_grpc_platform) {
  using grpc::reflection::v1alpha::ServerReflectionRequest;
  using grpc::reflection::v1alpha::ServerReflectionResponse;
  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel_to(*service));
  auto ctx = grpc_context();
  auto stream = reflection->ServerReflectionInfo(ctx.get());

  ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  ASSERT_TRUE(listed.has_list_services_response()) << listed.DebugString();
  std::set<std::string> names;
  for (auto& s : listed.list_services_response().service())
    names.insert(s.name());
  EXPECT_TRUE(names.count("GrpcPlatform")) << "no package: the course's full name";
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  EXPECT_TRUE(names.count("grpc.reflection.v1alpha.ServerReflection"));

  ServerReflectionRequest describe;
  describe.set_file_containing_symbol("GrpcPlatform");
  ASSERT_TRUE(stream->Write(describe));
  ServerReflectionResponse described;
  ASSERT_TRUE(stream->Read(&described));
  ASSERT_TRUE(described.has_file_descriptor_response()) << described.DebugString();
  ASSERT_GE(described.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(described.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.package(), "");
  ASSERT_EQ(file.service_size(), 1);
  std::map<std::string, bool> streaming; // method -> server streaming
  for (auto& m : file.service(0).method())
    streaming[m.name()] = m.server_streaming();
  EXPECT_EQ(streaming, (std::map<std::string, bool>{{"GetAllPlatforms", false},
                                                    {"StreamAllPlatforms", true}}));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(rest_api, log_lines_about_a_request_carry_its_request_id) {
  auto c = service->http();
  auto r = post_json(c, R"({"name":"Nomad","publisher":"HashiCorp","cost":"Free"})",
                     {{"X-Request-Id", "it-log-created-1"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201);
  auto line = service->process().wait_for_line("request_id=it-log-created-1", 10s);
  ASSERT_TRUE(line) << "the create is logged with the request id";
  EXPECT_NE(line->find("event=platform_created"), std::string::npos) << *line;
  EXPECT_NE(line->find("id=" + std::to_string(body_of(r)["id"].get<int>())), std::string::npos)
    << *line;
}

TEST(outbox, the_request_trace_goes_on_with_its_event) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_trace";
  service_process service(options("it_trace"));
  ASSERT_TRUE(service.wait_ready());
  auto reader = platform_it::queue_reader::emptied(broker, queue);
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto c = service.http();
  auto r = post_json(c, R"({"name":"Traced","publisher":"W3C","cost":"Free"})",
                     {{"traceparent", "00-" + trace_id + "-00f067aa0ba902b7-01"},
                      {"X-Request-Id", "it-trace-1"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  auto span = actors::trace::parse(r->get_header_value("traceresponse"));
  ASSERT_TRUE(span) << r->get_header_value("traceresponse");
  EXPECT_EQ(span->trace_id, trace_id);
  EXPECT_NE(span->span_id, "00f067aa0ba902b7") << "the service's own span";

  auto got = reader.take(1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].correlation_id, "it-trace-1");
  EXPECT_EQ(got[0].traceparent, span->traceparent()) << "the event's parent is the request's span";
  auto line = service.process().wait_for_line("event=platform_created", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("request_id=it-trace-1 trace_id=" + trace_id + " span_id=" + span->span_id),
            std::string::npos) << "the repository actor logs in the request's span: " << *line;

  // Without a traceparent the service starts a trace; a broken one is not continued.
  auto fresh = post_json(c, R"({"name":"Untraced","publisher":"W3C","cost":"Free"})",
                         {{"traceparent", "00-" + std::string(32, '0') + "-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(fresh);
  ASSERT_EQ(fresh->status, 201);
  auto started = actors::trace::parse(fresh->get_header_value("traceresponse"));
  ASSERT_TRUE(started);
  EXPECT_NE(started->trace_id, std::string(32, '0'));
  got = reader.take(1, 10s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].traceparent, started->traceparent());
}

// A client that got no answer (a 502 from the gateway, a timeout) retries
// with the same Idempotency-Key: one platform, one event, the same answer.
TEST(outbox, a_create_retried_with_its_idempotency_key_makes_one_platform_and_one_event) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_idempotency";
  service_process service(options("it_idempotency"));
  ASSERT_TRUE(service.wait_ready());
  auto reader = platform_it::queue_reader::emptied(broker, queue);
  auto c = service.http();
  const std::string body = R"({"name":"Retried","publisher":"p","cost":"c"})";
  auto first = post_json(c, body, {{"Idempotency-Key", "\"b3c1-retry\""}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;
  EXPECT_FALSE(first->has_header("Idempotent-Replayed"));
  auto retry = post_json(c, body, {{"Idempotency-Key", "b3c1-retry"}});
  ASSERT_TRUE(retry);
  ASSERT_EQ(retry->status, 201) << retry->body;
  EXPECT_EQ(retry->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(body_of(retry), body_of(first));
  EXPECT_EQ(retry->get_header_value("Location"), first->get_header_value("Location"));

  auto other = post_json(c, R"({"name":"Other","publisher":"p","cost":"c"})",
                         {{"Idempotency-Key", "b3c1-retry"}});
  expect_problem(other, 422, "the key of another platform");
  EXPECT_NE(other->body.find("platform " + std::to_string(int{body_of(first)["id"]})),
            std::string::npos) << other->body;
  for (const char* bad : {"\"\"", "has space", "quote\"inside"})
    expect_problem(post_json(c, body, {{"Idempotency-Key", bad}}), 400,
                   std::string{"key '"}.append(bad).append("'"));
  expect_problem(post_json(c, body, {{"Idempotency-Key", std::string(256, 'k')}}), 400,
                 "a 256-character key");

  auto got = reader.take(2, 3s);
  ASSERT_EQ(got.size(), 1u) << "one event for the created platform, none for its replay";
  EXPECT_EQ(json::parse(got[0].body)["Id"], body_of(first)["id"]);
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
  std::vector<std::string> request_ids; // given by the client, or generated (odd i)
  for (int i = 0; i < 50; ++i) {
    httplib::Headers given;
    if (i % 2 == 0)
      given = {{"X-Request-Id", "outbox-" + std::to_string(i)}};
    auto r = post_json(c, json{{"name", numbered("p", i)}, {"publisher", "x"}, {"cost", "y"}}.dump(),
                       given);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << "POST " << i << " while the broker is down: " << r->body;
    ids.push_back(body_of(r)["id"]);
    request_ids.push_back(r->get_header_value("X-Request-Id"));
    ASSERT_FALSE(request_ids.back().empty());
  }
  EXPECT_TRUE(support::eventually([&] { return service.metric("outbox_backlog") == 50; }, 10s))
    << "the relay's restart attempts count the events waiting for the broker: "
    << service.metric("outbox_backlog");
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
    EXPECT_EQ(got[i].correlation_id, request_ids[i]) << "the request's X-Request-Id";
    if (i % 2 == 0) {
      EXPECT_EQ(got[i].correlation_id, "outbox-" + std::to_string(i));
    }
    message_ids.insert(got[i].message_id);
  }
  EXPECT_EQ(message_ids.size(), 50u) << "distinct message ids";
  // Exactly once: once the backlog is empty, nothing more arrives. (The
  // events can reach the queue before the relay marks them published.)
  EXPECT_TRUE(service.process().wait_for_line("actor=platform.outbox_relay event=backlog_drained published=50", 20s));
  EXPECT_TRUE(support::eventually([&] { return service.metric("outbox_backlog") == 0; }, 20s))
    << "backlog " << service.metric("outbox_backlog");
  EXPECT_TRUE(reader.take(1, 1s).empty()) << "no duplicates";
  EXPECT_GE(service.metric("actor_restarts_total{actor=\"platform.outbox_relay\"}"), 1)
    << "the relay failed and was restarted while the broker was away";
  // The story in the log: the relay that got through found the 50 (and sent them).
  EXPECT_TRUE(service.process().wait_for_line("actor=platform.outbox_relay event=backlog_found events=50", 1s));
}

TEST(outbox, a_commit_wakes_the_relay_without_waiting_for_its_poll) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_commit_wake";
  auto o = options("it_commit_wake");
  o.extra_flags = {"--OutboxPollInterval=30s"}; // only the commit's wake can be quick
  service_process service(o);
  ASSERT_TRUE(service.wait_ready());
  auto reader = platform_it::queue_reader::emptied(broker, queue);
  std::this_thread::sleep_for(500ms); // the first poll round has passed: the relay is idle

  // Three creates, each after the relay went idle again.
  expect_each_create_published_within_a_second(service, reader, "bell");

  // A platform written straight into the database (not through the REST
  // API) is woken by its commit just the same.
  soci::session sql{soci::postgresql, support::postgres().connection_string("it_commit_wake")};
  soci::transaction tx{sql};
  int id = 0;
  sql << "INSERT INTO platforms (name, publisher, cost) VALUES ('by hand', 'x', 'y') RETURNING id",
    soci::into(id);
  std::string payload = json{{"Id", id}, {"Name", "by hand"}, {"Event", "Platform_Published"}}.dump();
  sql << "INSERT INTO outbox (type, payload) VALUES ('Platform_Published', :p)", soci::use(payload);
  tx.commit();
  auto committed = std::chrono::steady_clock::now();
  auto got = reader.take(1, 5s);
  ASSERT_EQ(got.size(), 1u) << "not published within 5 s";
  EXPECT_EQ(json::parse(got[0].body)["Id"], id);
  EXPECT_LT(std::chrono::steady_clock::now() - committed, 1s);
}

TEST(outbox, replicas_on_one_database_publish_each_event_once_and_a_standby_takes_over) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_replicas";
  service_process leader(options("it_replicas"));
  auto standby_replica = standby_for(leader, options("it_replicas"));
  ASSERT_TRUE(standby_replica) << "a leading replica and a standby";
  auto& standby = *standby_replica;
  auto reader = platform_it::queue_reader::emptied(broker, queue);

  auto create = [](service_process& replica, int i) {
    auto c = replica.http();
    auto r = post_json(c, json{{"name", numbered("replica", i)}, {"publisher", "x"}, {"cost", "y"}}.dump());
    EXPECT_TRUE(r && r->status == 201) << "create " << i;
    return r ? body_of(r)["id"].get<int>() : 0;
  };
  std::vector<int> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(create(i % 2 ? standby : leader, i));
  auto got = reader.take(20, 10s);
  ASSERT_EQ(got.size(), 20u);
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(json::parse(got[i].body)["Id"], ids[i]) << "commit order at " << i;
  EXPECT_TRUE(reader.take(1, 1s).empty()) << "each event once, not once per replica";

  leader.process().signal(SIGKILL); // its session ends, and the relay lock with it
  ASSERT_TRUE(standby.process().wait_for_line("actor=platform.outbox_relay event=leading", 10s))
    << "the standby's relay takes over";
  std::vector<int> later;
  for (int i = 20; i < 25; ++i)
    later.push_back(create(standby, i));
  auto after = reader.take(5, 10s);
  ASSERT_EQ(after.size(), 5u);
  for (std::size_t i = 0; i < after.size(); ++i)
    EXPECT_EQ(json::parse(after[i].body)["Id"], later[i]);
}

TEST(outbox, a_commit_on_a_standby_wakes_the_leaders_relay_without_waiting_for_its_poll) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_standby_wake";
  auto o = options("it_standby_wake");
  o.extra_flags = {"--OutboxPollInterval=30s"}; // only a wake can be quick
  service_process leader(o);
  auto standby_replica = standby_for(leader, o);
  ASSERT_TRUE(standby_replica) << "a leading replica and a standby";
  auto& standby = *standby_replica;
  ASSERT_TRUE(leader.process().wait_for_line("actor=platform.outbox_listener event=listening", 5s));
  auto reader = platform_it::queue_reader::emptied(broker, queue);

  expect_each_create_published_within_a_second(standby, reader, "standby");
}

namespace {

std::string event_json(int id, const std::string& name) {
  return json{{"Id", id}, {"Name", name}, {"Event", "Platform_Published"}}.dump();
}

// An outbox row written straight into the service's database (as any writer
// besides the REST API may); returns its id.
std::int64_t insert_event(soci::session& sql, const std::string& payload) {
  long long id = 0;
  sql << "INSERT INTO outbox (type, payload) VALUES ('Platform_Published', :p) RETURNING id",
    soci::use(payload), soci::into(id);
  return id;
}

// Events with Ids first_id, first_id + 1, ... inserted in that order (each in
// its own transaction unless one is open); returns their row ids.
std::vector<std::int64_t> commit_events(soci::session& sql, int first_id, int n) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back(insert_event(sql, event_json(first_id + i, numbered("after", i))));
  return ids;
}

std::vector<int> event_ids(const std::vector<platform_it::received>& got) {
  std::vector<int> ids;
  for (auto& m : got)
    ids.push_back(json::parse(m.body)["Id"].get<int>());
  return ids;
}

struct parked_row {
  bool published = false;
  bool parked = false;
  std::string reason;
};

parked_row row_state(soci::session& sql, std::int64_t id) {
  long long row = id;
  int published = 0, parked = 0;
  std::string reason;
  soci::indicator reason_ind = soci::i_null;
  sql << "SELECT CAST(published_at IS NOT NULL AS int), CAST(parked_at IS NOT NULL AS int),"
         " parked_reason FROM outbox WHERE id = :id",
    soci::use(row), soci::into(published), soci::into(parked), soci::into(reason, reason_ind);
  return {published == 1, parked == 1, reason_ind == soci::i_ok ? reason : ""};
}

} // namespace

TEST(outbox, a_row_over_the_size_limit_is_parked_and_the_rows_after_it_flow_in_order) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_park";
  auto o = options("it_outbox_park");
  o.extra_flags = {"--OutboxMaxEventBytes=1024"};
  service_process service(o);
  ASSERT_TRUE(service.wait_ready());
  auto reader = platform_it::queue_reader::emptied(broker, queue);
  ASSERT_TRUE(relay_leads(service));
  auto restarts_before = service.metric(relay_restarts);

  soci::session sql{soci::postgresql, support::postgres().connection_string("it_outbox_park")};
  auto large = event_json(1000, std::string(2000, 'x'));
  std::vector<std::int64_t> first;
  std::int64_t parked_id = 0;
  {
    soci::transaction tx{sql}; // one commit: the large row goes out in a batch with others
    first = commit_events(sql, 1001, 2);
    parked_id = insert_event(sql, large);
    auto more = commit_events(sql, 1003, 2);
    first.insert(first.end(), more.begin(), more.end());
    tx.commit();
  }
  auto later = commit_events(sql, 1005, 3); // committed after it

  auto got = reader.take(7, 10s);
  EXPECT_EQ(event_ids(got), (std::vector<int>{1001, 1002, 1003, 1004, 1005, 1006, 1007}))
    << "every other row, in commit order";
  EXPECT_TRUE(reader.take(1, 1s).empty()) << "the large row is never published";

  auto line = service.process().wait_for_line("event=event_parked", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find(std::string{" id="}.append(std::to_string(parked_id)).append(" ")), std::string::npos) << *line;
  EXPECT_NE(line->find("level=warn"), std::string::npos) << *line;
  EXPECT_NE(line->find("reason=too_large"), std::string::npos) << *line;
  auto detail = std::to_string(large.size()) + " bytes, over OutboxMaxEventBytes (1024)";
  EXPECT_NE(line->find(detail), std::string::npos) << *line;
  EXPECT_EQ(service.metric(R"(outbox_parked_total{reason="too_large"})"), 1);

  auto state = row_state(sql, parked_id);
  EXPECT_TRUE(state.parked);
  EXPECT_FALSE(state.published);
  EXPECT_EQ(state.reason, "too_large: " + detail);
  for (auto id : later)
    EXPECT_TRUE(support::eventually([&] { return row_state(sql, id).published; }, 5s)) << id;
  EXPECT_TRUE(support::eventually([&] { return service.metric("outbox_backlog") == 0; }, 5s))
    << "a parked row is not backlog";
  // Idle afterwards: nothing is sent again, the relay was never restarted.
  auto published = service.metric("outbox_published_total");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(service.metric("outbox_published_total"), published);
  EXPECT_EQ(published, 7);
  EXPECT_EQ(service.metric(relay_restarts), restarts_before);
}

TEST(outbox, a_row_the_broker_nacks_while_taking_others_is_parked_after_three_nacks) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_nack", guard = "it_outbox_nack_guard";
  // A queue that refuses (nacks) any message that would take it past 64 KiB:
  // small events fit, a 100 KB one never does.
  broker.ctl({"set_policy", "it-nack-guard", "^" + guard + "$",
              R"({"max-length-bytes":65536,"overflow":"reject-publish"})", "--apply-to", "queues"});
  struct cleanup {
    support::rabbitmq_server& b;
    std::string queue;
    ~cleanup() {
      try {
        b.ctl({"delete_queue", queue});
        b.ctl({"clear_policy", "it-nack-guard"});
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleaning up the nack guard: " << e.what();
      }
    }
  } remove_guard{broker, guard};
  service_process service(options("it_outbox_nack"));
  ASSERT_TRUE(service.wait_ready());
  platform_it::prepare_queue(broker, guard);
  auto reader = platform_it::queue_reader::emptied(broker, queue);
  ASSERT_TRUE(relay_leads(service));

  soci::session sql{soci::postgresql, support::postgres().connection_string("it_outbox_nack")};
  auto parked_id = insert_event(sql, event_json(2000, std::string(100'000, 'n')));
  // Others keep coming: each nack of the large row while they pass counts.
  std::vector<std::int64_t> others;
  int next = 2001;
  ASSERT_TRUE(support::eventually([&] {
    auto ids = commit_events(sql, next++, 1);
    others.insert(others.end(), ids.begin(), ids.end());
    return service.metric(R"(outbox_parked_total{reason="nacked"})") == 1;
  }, 20s)) << "parked within 20 s";
  auto line = service.process().wait_for_line("event=event_parked", 1s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find(std::string{" id="}.append(std::to_string(parked_id)).append(" ")), std::string::npos) << *line;
  EXPECT_NE(line->find("reason=nacked"), std::string::npos) << *line;
  EXPECT_NE(line->find("nacked 3 times while the broker took other events"), std::string::npos)
    << *line;
  auto state = row_state(sql, parked_id);
  EXPECT_TRUE(state.parked);
  EXPECT_FALSE(state.published);
  EXPECT_GE(service.metric("outbox_nacked_total"), 3);
  EXPECT_LE(service.metric("outbox_nacked_total"), 20) << "sent again a few times, not spun on";

  // Every other row reached the queue in order (the queue without a limit
  // also got the large one with each attempt: a nacked publish may have
  // reached some queues).
  std::vector<int> small;
  for (auto& m : reader.take(others.size() + 20, 5s)) {
    auto id = json::parse(m.body)["Id"].get<int>();
    if (id != 2000)
      small.push_back(id);
  }
  ASSERT_EQ(small.size(), others.size());
  for (std::size_t i = 0; i < small.size(); ++i)
    EXPECT_EQ(small[i], 2001 + static_cast<int>(i));
  for (auto id : others)
    EXPECT_TRUE(row_state(sql, id).published) << id;
}

TEST(outbox, a_row_that_closes_the_channel_is_parked_and_the_relay_carries_on_without_a_restart) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_refused";
  // A broker whose max_message_size (for channels opened from here on) is
  // below OutboxMaxEventBytes: it closes the channel with 406 on the row.
  broker.ctl({"eval", "application:set_env(rabbit, max_message_size, 4096)."});
  struct restore {
    support::rabbitmq_server& b;
    ~restore() {
      try {
        b.ctl({"eval", "application:set_env(rabbit, max_message_size, 134217728)."});
      } catch (const std::exception& e) {
        ADD_FAILURE() << "restoring max_message_size: " << e.what();
      }
    }
  } restore_limit{broker};
  service_process service(options("it_outbox_refused"));
  ASSERT_TRUE(service.wait_ready());
  auto reader = platform_it::queue_reader::emptied(broker, queue);
  ASSERT_TRUE(relay_leads(service));
  auto restarts_before = service.metric(relay_restarts);

  soci::session sql{soci::postgresql, support::postgres().connection_string("it_outbox_refused")};
  std::int64_t parked_id = 0;
  {
    soci::transaction tx{sql}; // in one batch with others: the relay must find which one
    commit_events(sql, 3001, 3);
    parked_id = insert_event(sql, event_json(3000, std::string(5000, 'r')));
    commit_events(sql, 3004, 3);
    tx.commit();
  }
  commit_events(sql, 3007, 2);

  // Rows sent before the channel closed may arrive twice (at least once).
  std::vector<int> ids;
  auto until = std::chrono::steady_clock::now() + 15s;
  while (std::set<int>(ids.begin(), ids.end()).size() < 8 && std::chrono::steady_clock::now() < until)
    for (auto id : event_ids(reader.take(1, 200ms)))
      ids.push_back(id);
  EXPECT_EQ(std::set<int>(ids.begin(), ids.end()),
            (std::set<int>{3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008}));
  auto line = service.process().wait_for_line("event=event_parked", 5s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find(std::string{" id="}.append(std::to_string(parked_id)).append(" ")), std::string::npos) << *line;
  EXPECT_NE(line->find("reason=refused"), std::string::npos) << *line;
  EXPECT_NE(line->find("406 PRECONDITION_FAILED"), std::string::npos) << *line;
  EXPECT_TRUE(service.process().wait_for_line("event=publish_refused", 1s));
  EXPECT_EQ(service.metric(R"(outbox_parked_total{reason="refused"})"), 1);
  EXPECT_TRUE(row_state(sql, parked_id).parked);
  EXPECT_TRUE(support::eventually([&] { return service.metric("outbox_backlog") == 0; }, 5s));
  EXPECT_EQ(service.metric(relay_restarts), restarts_before)
    << "the relay reconnected in place rather than fail";
}

TEST(outbox, an_event_no_queue_receives_is_kept_in_trigger_unrouted_and_counted) {
  auto& broker = support::rabbitmq();
  // No queue bound to `trigger`: the earlier tests' queues go (the tests
  // after this one declare and bind theirs again).
  auto connection = support::amqp_options(broker, "platform_it_unrouted");
  connection.heartbeat = 0s;
  shared::amqp::connection admin{connection};
  shared::amqp::declare_trigger(admin);
  std::istringstream bindings{broker.ctl({"list_bindings", "--no-table-headers", "source_name",
                                          "destination_name", "destination_kind"})};
  for (std::string line; std::getline(bindings, line);) {
    std::istringstream fields{line};
    std::string source, destination, kind;
    if (std::getline(fields, source, '\t') && std::getline(fields, destination, '\t')
        && std::getline(fields, kind) && source == "trigger" && kind == "queue")
      admin.delete_queue(destination);
  }
  admin.purge_queue("trigger.unrouted");

  service_process service(options("it_outbox_unrouted"));
  ASSERT_TRUE(service.wait_ready());
  ASSERT_TRUE(relay_leads(service));
  auto c = service.http();
  auto r = post_json(c, R"({"name":"Nobody listens","publisher":"p","cost":"c"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201);
  int id = body_of(r)["id"];

  EXPECT_TRUE(support::eventually([&] { return service.metric("outbox_unrouted_total") == 1; }, 5s))
    << "counted within about a second";
  auto line = service.process().wait_for_line("event=events_unrouted", 1s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("level=warn"), std::string::npos) << *line;
  EXPECT_NE(line->find("events=1 queue=trigger.unrouted"), std::string::npos) << *line;
  EXPECT_EQ(service.metric("outbox_returned_total"), 0) << "the alternate exchange took it";

  admin.consume("trigger.unrouted");
  auto kept = admin.next(5s);
  ASSERT_TRUE(kept) << "the event is kept in trigger.unrouted";
  EXPECT_EQ(json::parse(kept->body)["Id"], id);
  EXPECT_EQ(kept->props.type, "Platform_Published");
  EXPECT_EQ(kept->exchange, "trigger");
  admin.ack(kept->delivery_tag);
  EXPECT_FALSE(admin.next(300ms)) << "once";
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
  opts.extra_flags.push_back("--RequestTimeout=1s");
  service_process service(opts);
  ASSERT_TRUE(service.wait_ready());

  pg.stop();
  auto c = service.http();
  // A 503 says what to do, not what failed: that is in the log.
  auto expect_plain_503 = [](const httplib::Result& r, const std::string& what) {
    expect_problem(r, 503, what);
    if (!r)
      return;
    auto p = body_of(r);
    EXPECT_EQ(p["detail"], "The service could not complete the request in time; retry later.")
      << what;
    EXPECT_EQ(p["traceId"], r->get_header_value("X-Request-Id")) << what;
    EXPECT_EQ(support::internal_text_in(r->body), "") << what << ": " << r->body;
  };
  for (int round = 0; round < 3; ++round) { // while members fail, restart and fail again
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.Get("/api/platforms/1");
    auto elapsed = std::chrono::steady_clock::now() - t0;
    expect_plain_503(r, "GET while the database is down");
    EXPECT_LT(elapsed, 2500ms) << "no request hangs past its deadline";
    t0 = std::chrono::steady_clock::now();
    expect_plain_503(post_json(c, R"({"name":"n","publisher":"p","cost":"c"})"), "POST");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
    auto ready = c.Get("/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503);
    EXPECT_EQ(body_of(ready)["status"], "Unhealthy");
    EXPECT_NE(body_of(ready)["checks"]["database"], "up") << ready->body;
  }
  expect_plain_503(c.Get("/api/platforms", {{"X-Request-Id", "it-outage-http"}}), "GET all");
  auto line = service.process().wait_for_line("request_id=it-outage-http", 10s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("event=database_unavailable"), std::string::npos) << *line;
  EXPECT_NE(line->find("error="), std::string::npos) << "what failed is logged: " << *line;

  auto grpc_stub = GrpcPlatform::NewStub(channel_to(service));
  auto ctx = grpc_context(5s);
  ctx->AddMetadata("x-request-id", "it-outage-grpc");
  PlatformResponse none;
  auto status = grpc_stub->GetAllPlatforms(ctx.get(), GetAllRequest{}, &none);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  line = service.process().wait_for_line("request_id=it-outage-grpc", 10s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("event=database_unavailable"), std::string::npos) << *line;

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

TEST(grpc_stream, streams_a_large_catalogue_in_pages_in_id_order) {
  service_process service(options("it_stream"));
  ASSERT_TRUE(service.wait_ready());
  {
    soci::session sql(soci::postgresql, support::postgres().connection_string("it_stream"));
    sql << "INSERT INTO platforms (name, publisher, cost) SELECT 'platform-' || g,"
           " 'publisher-' || g, 'Free' FROM generate_series(1, 2500) g";
  }
  auto stub = GrpcPlatform::NewStub(channel_to(service));
  PlatformResponse all;
  ASSERT_TRUE(stub->GetAllPlatforms(grpc_context().get(), GetAllRequest{}, &all).ok());
  ASSERT_EQ(all.platform_size(), 2503);

  // Page sizes asked for -> the sizes of the messages that come back.
  struct round {
    std::int32_t page_size;
    std::vector<int> sizes;
  };
  for (auto& [page_size, sizes] : std::vector<round>{{1000, {1000, 1000, 503}},
                                                      {0, {1000, 1000, 503}}, // the default
                                                      {2503, {2503}},
                                                      {1'000'000, {2503}}}) { // capped at 10,000
    StreamAllRequest req;
    req.set_pagesize(page_size);
    auto ctx = grpc_context();
    auto reader = stub->StreamAllPlatforms(ctx.get(), req);
    std::vector<int> got_sizes;
    std::vector<std::pair<int, std::string>> got;
    PlatformResponse page;
    while (reader->Read(&page)) {
      got_sizes.push_back(page.platform_size());
      for (auto& p : page.platform())
        got.emplace_back(p.platformid(), p.name());
    }
    auto status = reader->Finish();
    ASSERT_TRUE(status.ok()) << "pageSize " << page_size << ": " << status.error_message();
    EXPECT_EQ(got_sizes, sizes) << "pageSize " << page_size;
    ASSERT_EQ(got.size(), 2503u);
    for (int i = 0; i < all.platform_size(); ++i) {
      EXPECT_EQ(got[i].first, all.platform(i).platformid()) << "ascending ids, none twice";
      EXPECT_EQ(got[i].second, all.platform(i).name());
    }
  }

  StreamAllRequest negative;
  negative.set_pagesize(-1);
  auto ctx = grpc_context();
  auto reader = stub->StreamAllPlatforms(ctx.get(), negative);
  PlatformResponse ignored;
  EXPECT_FALSE(reader->Read(&ignored));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

namespace {

// Far over gRPC's default 4 MiB once encoded (5.9 MB).
constexpr int large_catalogue = 150'000;

// `count` platforms added to the service's database in one statement.
void insert_platforms(const std::string& database, int count) {
  soci::session sql(soci::postgresql, support::postgres().connection_string(database));
  sql << "INSERT INTO platforms (name, publisher, cost) SELECT 'platform-' || g,"
         " 'publisher-' || g, 'Free' FROM generate_series(1, " << count << ") g";
}

double mib(std::size_t bytes) {
  return static_cast<double>(bytes) / (1 << 20);
}

long long ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

} // namespace

TEST(rest_list, pages_with_a_link_to_the_next_and_rejects_bad_parameters) {
  service_process service(options("it_pages"));
  ASSERT_TRUE(service.wait_ready());
  auto c = service.http();
  std::vector<int> ids;
  std::string next = "/api/platforms?limit=2";
  while (!next.empty()) {
    auto r = c.Get(next.c_str());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << next << ": " << r->body;
    for (auto& p : body_of(r))
      ids.push_back(p["id"]);
    auto link = r->get_header_value("Link");
    next.clear();
    if (!link.empty()) {
      EXPECT_NE(link.find("rel=\"next\""), std::string::npos) << link;
      next = link.substr(1, link.find('>') - 1);
    }
  }
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3})) << "pages of 2: [1,2] with a link, then [3] without";
  for (auto* bad : {"/api/platforms?limit=0", "/api/platforms?limit=1001", "/api/platforms?limit=x",
                    "/api/platforms?limit=2&after=-1", "/api/platforms?after=2"})
    expect_problem(c.Get(bad), 400, bad);
}

TEST(rest_list, the_full_list_streams_in_id_order_and_gives_its_memory_back) {
  service_process service(options("it_stream_rest"));
  ASSERT_TRUE(service.wait_ready());
  insert_platforms("it_stream_rest", large_catalogue);
  auto c = service.http();
  c.set_read_timeout(30, 0);
  auto before = mib(service.process().resident_bytes());
  double peak = before;
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/api/platforms");
    peak = std::max(peak, mib(service.process().resident_bytes()));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Transfer-Encoding"), "chunked");
    auto all = json::parse(r->body);
    ASSERT_EQ(all.size(), 150'003u);
    for (std::size_t k = 0; k < all.size(); k += 9'999)
      ASSERT_EQ(all[k]["id"], static_cast<int>(k + 1));
    EXPECT_EQ(all.back()["name"], "platform-150000");
  }
  auto after = mib(service.process().resident_bytes());
  std::cout << "resident MiB: before " << before << ", peak seen " << peak << ", after " << after
            << "\n";
  if (support::under_address_sanitizer)
    GTEST_SKIP() << "resident memory under ASan is its quarantine: checked in Release";
  EXPECT_LT(after - before, 8) << "the pages' memory went back";
}

TEST(grpc_large_catalogue, get_all_platforms_leaves_resident_memory_where_it_was) {
  service_process service(options("it_grpc_memory"));
  ASSERT_TRUE(service.wait_ready());
  insert_platforms("it_grpc_memory", large_catalogue);
  auto stub = GrpcPlatform::NewStub(channel_to(service));
  auto& process = service.process();

  auto before = process.resident_bytes();
  std::atomic<bool> calling{true};
  std::atomic<std::size_t> peak{before};
  std::thread sampler{[&] {
    while (calling) {
      peak = std::max(peak.load(), process.resident_bytes());
      std::this_thread::sleep_for(2ms);
    }
  }};
  std::string each;
  for (int i = 0; i < 3; ++i) {
    PlatformResponse all;
    auto status = stub->GetAllPlatforms(grpc_context().get(), GetAllRequest{}, &all);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(all.platform_size(), large_catalogue + 3);
    std::this_thread::sleep_for(200ms); // for the figures only: the server has trimmed
    each.append(" ").append(std::to_string(process.resident_bytes() >> 20));
  }
  calling = false;
  sampler.join();
  if (support::under_address_sanitizer)
    GTEST_SKIP() << "resident memory under ASan is its quarantine: checked in Release";
  // The server releases the response just after the client has it.
  const std::size_t few_mib = 8 << 20;
  std::size_t after = 0;
  EXPECT_TRUE(support::eventually([&] {
    after = process.resident_bytes();
    return after < before + few_mib;
  }, 1s)) << "resident " << mib(before) << " MiB before, " << mib(after) << " MiB after";
  // The response once (and its encoding), not the catalogue copied again.
  EXPECT_LT(peak, before + (48 << 20)) << "peak " << mib(peak) << " MiB";
  std::printf("GetAllPlatforms x3 over %d platforms: VmRSS before %.1f MiB, peak %.1f MiB,"
              " after %.1f MiB (after each call, MiB:%s)\n",
              large_catalogue + 3, mib(before), mib(peak), mib(after), each.c_str());
}

// The command service's periodic sync: the whole catalogue in its pages of
// 10,000 while creates go on (each lands in the cache, between the pages'
// blocks). Without a trim after the stream, the freed pages stayed resident.
TEST(grpc_large_catalogue, stream_all_platforms_under_creates_gives_its_memory_back) {
  service_process service(options("it_stream_memory"));
  ASSERT_TRUE(service.wait_ready());
  auto stub = GrpcPlatform::NewStub(channel_to(service));
  auto& process = service.process();
  // The whole catalogue as the command service reads it: the number read.
  auto stream_all = [&] {
    StreamAllRequest req;
    req.set_pagesize(10'000);
    auto ctx = grpc_context();
    auto reader = stub->StreamAllPlatforms(ctx.get(), req);
    PlatformResponse page;
    int got = 0;
    while (reader->Read(&page))
      got += page.platform_size();
    auto status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return got;
  };
  std::atomic<bool> streaming{true};
  std::atomic<int> created{0};
  std::thread creates{[&] {
    auto c = service.http();
    for (int i = 0; streaming; ++i) {
      auto body = json{{"name", "soak-" + std::to_string(i)}, {"publisher", "p"}, {"cost", "Free"}};
      auto r = post_json(c, body.dump());
      if (r && r->status == 201)
        ++created;
      std::this_thread::sleep_for(5ms); // about the soak's 200 creates/s
    }
  }};
  // First use (gRPC's threads and buffers, the HTTP connection) is not growth.
  EXPECT_GE(stream_all(), 3);
  insert_platforms("it_stream_memory", large_catalogue);
  auto before = process.resident_bytes();
  std::string each;
  for (int i = 0; i < 3; ++i) {
    EXPECT_GE(stream_all(), large_catalogue + 3);
    std::this_thread::sleep_for(200ms); // for the figures only: the server has trimmed
    each.append(" ").append(std::to_string(process.resident_bytes() >> 20));
  }
  streaming = false;
  creates.join();
  EXPECT_GT(created, 0);
  if (support::under_address_sanitizer)
    GTEST_SKIP() << "resident memory under ASan is its quarantine: checked in Release";
  const std::size_t few_mib = 3 << 20; // the cache's new entries are a few hundred KiB of it
  std::size_t after = 0;
  EXPECT_TRUE(support::eventually([&] {
    after = process.resident_bytes();
    return after < before + few_mib;
  }, 1s)) << "resident " << mib(before) << " MiB before, " << mib(after) << " MiB after";
  std::printf("StreamAllPlatforms x3 over %d platforms with %d creates: VmRSS before %.1f MiB,"
              " after %.1f MiB (after each stream, MiB:%s)\n",
              large_catalogue + 3, created.load(), mib(before), mib(after), each.c_str());
}

TEST(grpc_large_catalogue, get_all_platforms_stops_when_the_caller_gives_up) {
  service_process service(options("it_grpc_deadline"));
  ASSERT_TRUE(service.wait_ready());
  insert_platforms("it_grpc_deadline", large_catalogue);
  auto stub = GrpcPlatform::NewStub(channel_to(service));
  auto& process = service.process();

  auto call = [&](std::chrono::milliseconds deadline, PlatformResponse& out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    return stub->GetAllPlatforms(&ctx, GetAllRequest{}, &out);
  };
  PlatformResponse warm;
  ASSERT_TRUE(call(10s, warm).ok()) << "a generous deadline gets every platform";
  ASSERT_EQ(warm.platform_size(), large_catalogue + 3);

  PlatformResponse quick;
  auto asked_quick = std::chrono::steady_clock::now();
  auto quick_status = call(100ms, quick);
  EXPECT_LT(std::chrono::steady_clock::now() - asked_quick, 300ms);
  EXPECT_TRUE(quick_status.ok() || quick_status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
    << quick_status.error_message();

  auto cpu_before = process.cpu_time();
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    PlatformResponse ignored;
    EXPECT_EQ(call(1ms, ignored).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // Whatever the server still does for the five is done within this second.
  std::this_thread::sleep_for(1s);
  auto cpu_spent = process.cpu_time() - cpu_before;
  auto wall = std::chrono::steady_clock::now() - started;
  // One page per abandoned call at most, plus the service's own background work.
  EXPECT_LT(cpu_spent, 250ms) << "the server kept building responses nobody waits for";

  PlatformResponse next;
  auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(call(10s, next).ok());
  auto served = std::chrono::steady_clock::now() - asked;
  EXPECT_EQ(next.platform_size(), large_catalogue + 3);
  std::printf("5 GetAllPlatforms with a 1 ms deadline over %d platforms: server CPU %lld ms in"
              " the %lld ms after; the next call served in %lld ms\n",
              large_catalogue + 3, ms(cpu_spent), ms(wall), ms(served));
}

TEST(grpc_large_catalogue, get_all_platforms_past_the_message_limit_is_refused_and_the_stream_serves) {
  auto opts = options("it_grpc_limit");
  opts.extra_flags = {"--GrpcMaxMessageBytes=1048576"};
  service_process service(opts);
  ASSERT_TRUE(service.wait_ready());
  insert_platforms("it_grpc_limit", large_catalogue);
  auto stub = GrpcPlatform::NewStub(channel_to(service));

  PlatformResponse all;
  auto status = stub->GetAllPlatforms(grpc_context().get(), GetAllRequest{}, &all);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_NE(status.error_message().find("GrpcMaxMessageBytes"), std::string::npos)
    << status.error_message();
  EXPECT_TRUE(service.process().wait_for_line("event=response_too_large", 2s));

  StreamAllRequest req;
  req.set_pagesize(10'000); // about 370 KB a page
  auto ctx = grpc_context();
  auto reader = stub->StreamAllPlatforms(ctx.get(), req);
  PlatformResponse page;
  int streamed = 0;
  while (reader->Read(&page))
    streamed += page.platform_size();
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(streamed, large_catalogue + 3);
}

// The outbox's ids come from an identity column at insert time, so a
// transaction that inserts first may commit last. Its event is not skipped:
// events leave in commit order, and each exactly once. (A platform has one
// event, its Platform_Published, so per-platform order cannot be broken.)
TEST(outbox, an_event_committed_after_a_later_id_is_published_once_in_commit_order) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_commit_order";
  auto o = options("it_outbox_commit_order");
  service_process service(o);
  ASSERT_TRUE(service.wait_ready());
  ASSERT_TRUE(relay_leads(service));
  auto reader = platform_it::queue_reader::emptied(broker, queue);

  auto conn = support::postgres().connection_string(o.database);
  soci::session first{soci::postgresql, conn}, second{soci::postgresql, conn};
  soci::transaction slow{first};
  auto early_id = insert_event(first, event_json(501, "inserted first, committed last"));
  std::int64_t late_id = 0;
  {
    soci::transaction quick{second};
    late_id = insert_event(second, event_json(502, "inserted last, committed first"));
    quick.commit();
  }
  ASSERT_LT(early_id, late_id);
  EXPECT_EQ(event_ids(reader.take(1, 5s)), std::vector<int>{502});
  slow.commit();
  EXPECT_EQ(event_ids(reader.take(1, 5s)), std::vector<int>{501}) << "the lower id is not skipped";
  EXPECT_TRUE(reader.take(1, 1s).empty()) << "each event once";
}

// A leader frozen (SIGSTOP) keeps its TCP connection: only its silence can
// tell. PostgreSQL ends the session once idle past OutboxLeaderLease, which
// frees the lock; the standby takes over, and the thawed leader stands by.
TEST(outbox, a_frozen_leader_loses_the_lock_and_a_standby_takes_over_within_30s) {
  auto& broker = support::rabbitmq();
  const std::string queue = "it_outbox_frozen";
  service_process leader(options("it_frozen"));
  auto standby_replica = standby_for(leader, options("it_frozen"));
  ASSERT_TRUE(standby_replica) << "a leading replica and a standby";
  auto& standby = *standby_replica;
  auto reader = platform_it::queue_reader::emptied(broker, queue);

  leader.process().signal(SIGSTOP);
  auto frozen = std::chrono::steady_clock::now();
  auto took_over = standby.process().wait_for_line("actor=platform.outbox_relay event=leading", 40s);
  auto after = std::chrono::steady_clock::now() - frozen;
  std::cerr << "standby leading " << std::chrono::duration_cast<std::chrono::milliseconds>(after).count()
            << " ms after the leader froze\n";
  ASSERT_TRUE(took_over) << "the standby never took over";
  EXPECT_LT(after, 30s);

  auto c = standby.http();
  auto r = post_json(c, json{{"name", "while frozen"}, {"publisher", "x"}, {"cost", "y"}}.dump());
  ASSERT_TRUE(r && r->status == 201);
  EXPECT_EQ(event_ids(reader.take(1, 5s)), std::vector<int>{body_of(r)["id"].get<int>()});

  auto from_line = leader.process().lines().size();
  leader.process().signal(SIGCONT);
  EXPECT_TRUE(leader.process().wait_for_line("actor=platform.outbox_relay event=standby", 30s,
                                             from_line))
    << "the thawed leader's relay fails on its ended session and stands by";
  auto l = leader.http();
  r = post_json(l, json{{"name", "after the thaw"}, {"publisher", "x"}, {"cost", "y"}}.dump());
  ASSERT_TRUE(r && r->status == 201);
  EXPECT_EQ(event_ids(reader.take(1, 5s)), std::vector<int>{body_of(r)["id"].get<int>()});
  EXPECT_TRUE(reader.take(1, 1s).empty()) << "each event once";
}

TEST(outbox, published_rows_are_deleted_after_the_retention_and_pending_ones_kept) {
  auto o = options("it_outbox_retention");
  o.extra_flags = {"--OutboxRetention=2s"};
  service_process service(o);
  ASSERT_TRUE(service.wait_ready());
  ASSERT_TRUE(relay_leads(service));
  soci::session sql{soci::postgresql, support::postgres().connection_string(o.database)};
  long long parked = 0; // parked as it is inserted: the relay never takes it
  auto payload = event_json(601, "parked, never published");
  sql << "INSERT INTO outbox (type, payload, parked_at, parked_reason)"
         " VALUES ('Platform_Published', :p, now(), 'test') RETURNING id",
    soci::use(payload), soci::into(parked);
  auto c = service.http();
  for (int i = 0; i < 3; ++i) {
    auto r = post_json(c, json{{"name", numbered("kept a while", i)}, {"publisher", "x"}, {"cost", "y"}}.dump());
    ASSERT_TRUE(r && r->status == 201);
  }
  auto rows = [&] {
    int n = 0;
    sql << "SELECT count(*) FROM outbox", soci::into(n);
    return n;
  };
  EXPECT_EQ(rows(), 4);
  EXPECT_TRUE(support::eventually([&] { return rows() == 1; }, 10s))
    << rows() << " rows; the parked one stays";
  EXPECT_TRUE(service.process().wait_for_line("actor=platform.outbox_relay event=published_deleted", 1s));
  long long left = 0;
  sql << "SELECT id FROM outbox", soci::into(left);
  EXPECT_EQ(left, parked);
}
