// The shared HTTP conventions: body reading, ids, problems, and a
// configured cpp-httplib server on a loopback port answering its error cases
// with problem+json.
#include "running_server.hpp"

#include <actors/errors.hpp>
#include <actors/settings.hpp>
#include <shared/metrics/registry.hpp>
#include <shared/http/operational.hpp>
#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>
#include <shared/http/rest_controller_actor.hpp>
#include <shared/http/server.hpp>

#include <raw_http.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <thread>

using namespace shared::http;
using nlohmann::json;

TEST(body_reader, reads_properties_case_insensitively) {
  body_reader body{R"({"Name":"Docker","PUBLISHER":"Docker Inc","cost":"Free"})"};
  EXPECT_EQ(body.required_string("name"), "Docker");
  EXPECT_EQ(body.required_string("publisher"), "Docker Inc");
  EXPECT_EQ(body.required_string("cost"), "Free");
  EXPECT_TRUE(body.ok());
}

TEST(body_reader, a_number_out_of_range_is_a_400_not_an_exception) {
  // Found by tests/fuzz: nlohmann throws out_of_range, not parse_error.
  body_reader body{R"({"name":1e3333333,"publisher":"p","cost":"c"})"};
  EXPECT_EQ(body.required_string("name"), "");
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.failure().errors.at("$").front(),
            "The body is not valid JSON (a number out of range).");
}

TEST(body_reader, collects_one_error_per_bad_field) {
  body_reader body{R"({"name":"","publisher":5,"extra":true})"};
  body.required_string("name");
  body.required_string("publisher");
  body.required_string("cost");
  ASSERT_FALSE(body.ok());
  auto& errors = body.failure().errors;
  EXPECT_EQ(body.failure().status, 400);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors.at("name").at(0), "The name field must not be empty.");
  EXPECT_EQ(errors.at("publisher").at(0), "The publisher field must be a string, not number.");
  EXPECT_EQ(errors.at("cost").at(0), "The cost field is required.");
}

TEST(body_reader, rejects_blank_strings_and_null) {
  body_reader body{R"({"name":"  \t","cost":null})"};
  body.required_string("name");
  body.required_string("cost");
  EXPECT_EQ(body.failure().errors.size(), 2u);
}

TEST(body_reader, rejects_invalid_json_non_objects_and_invalid_utf8) {
  for (std::string text : {"{", "[1,2]", "\"x\"", "", "{\"name\":\"\xff\xfe\"}", "null"}) {
    body_reader body{text};
    body.required_string("name");
    ASSERT_FALSE(body.ok()) << text;
    EXPECT_EQ(body.failure().errors.count("$"), 1u) << text;
    EXPECT_EQ(body.failure().errors.count("name"), 0u) << "only the body error for " << text;
  }
}

// The text field rules (request.hpp): 1-200 code points, no control
// characters, not blank, valid UTF-8; the value is kept as sent.
namespace {

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i)
    out.append(piece);
  return out;
}

// The error under "name" for a body {"name":<value>} (the value as JSON text).
std::string name_error(const std::string& json_value) {
  body_reader body{R"({"name":)" + json_value + "}"};
  body.required_string("name");
  if (body.ok())
    return "";
  auto& errors = body.failure().errors;
  if (!errors.count("name"))
    return "(no name error; errors under: " + errors.begin()->first + ")";
  return errors.at("name").at(0);
}

std::string name_error_for(const std::string& value) {
  return name_error(json(value).dump());
}

} // namespace

TEST(text_rules, the_limit_counts_code_points_not_bytes) {
  // 200 characters of 2, 3 and 4 bytes each: 400, 600, 800 bytes, all accepted.
  for (std::string c : {"\u00e9", "\u20ac", "\U0001F600"}) {
    auto value = repeat(c, 200);
    body_reader body{json{{"name", value}}.dump()};
    EXPECT_EQ(body.required_string("name"), value) << c.size() << "-byte characters";
    EXPECT_TRUE(body.ok()) << c.size() << "-byte characters";
    EXPECT_EQ(name_error_for(value + c),
              "The name field must be at most 200 characters (Unicode code points) long; "
              "it has 201.")
      << c.size() << "-byte characters";
  }
  EXPECT_EQ(name_error_for(repeat("x", 200)), "");
  EXPECT_NE(name_error_for(repeat("x", 201)), "");
  EXPECT_NE(name_error_for(repeat("x", 10'000)), "");
  EXPECT_EQ(name_error_for("x"), "") << "one character is enough";
}

TEST(text_rules, every_control_character_class_is_refused) {
  // C0 (NUL, BEL, TAB, LF, ESC, US), DEL, C1 (U+0080, NEL, U+009F).
  for (std::string c : {std::string(1, '\0'), std::string{"\x07"}, std::string{"\t"},
                        std::string{"\n"}, std::string{"\x1b"}, std::string{"\x1f"},
                        std::string{"\x7f"}, std::string{"\u0080"}, std::string{"\u0085"},
                        std::string{"\u009f"}}) {
    auto error = name_error_for("a" + c + "b");
    EXPECT_NE(error.find("must not contain control characters"), std::string::npos)
      << json(c).dump() << ": " << error;
    EXPECT_NE(error.find("at character 2"), std::string::npos) << error;
  }
  EXPECT_EQ(name_error(R"("Dock\u0000er")"),
            "The name field must not contain control characters (U+0000 at character 5).");
  EXPECT_EQ(name_error(R"("a\u0007b")"),
            "The name field must not contain control characters (U+0007 at character 2).");
  // Neighbours of the classes are ordinary characters.
  for (std::string fine : {" ", "~", "\u00a0x", "\u00a1", "\u2028x"})
    EXPECT_EQ(name_error_for("a" + fine), "") << json(fine).dump();
}

TEST(text_rules, blank_means_only_unicode_white_space) {
  for (std::string space : {" ", "\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029",
                            "\u202f", "\u205f", "\u3000", "\ufeff", "\u200b"}) {
    EXPECT_EQ(name_error_for(repeat(space, 3)),
              "The name field must not be blank (it has only white space).")
      << json(space).dump();
    EXPECT_EQ(name_error_for(space + "x" + space), "") << "kept as sent: " << json(space).dump();
  }
  EXPECT_EQ(name_error_for(""), "The name field must not be empty.");
  EXPECT_EQ(name_error_for(repeat("\u00a0", 300)),
            "The name field must not be blank (it has only white space).");
}

TEST(text_rules, a_value_is_returned_exactly_as_sent) {
  std::string value = "\u00a0 Docker \u3000";
  body_reader body{json{{"name", value}}.dump()};
  EXPECT_EQ(body.required_string("name"), value);
  EXPECT_TRUE(body.ok());
}

TEST(text_rules, invalid_utf8_is_refused_for_the_body_and_the_field) {
  // Overlong, a lone continuation byte, a surrogate, above U+10FFFF, cut short.
  for (std::string bad : {"\xc0\x80", "\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    body_reader body{"{\"name\":\"a" + bad + "\"}"};
    body.required_string("name");
    ASSERT_FALSE(body.ok());
    EXPECT_EQ(body.failure().errors.at("$").at(0), "The body is not valid UTF-8 (at byte 10).");
    EXPECT_EQ(text_field_error("name", "a" + bad), "The name field is not valid UTF-8.");
  }
  // A lone surrogate written as an escape is not JSON's UTF-16 either.
  body_reader escaped{R"({"name":"\ud800"})"};
  escaped.required_string("name");
  EXPECT_EQ(escaped.failure().errors.count("$"), 1u);
  EXPECT_EQ(text_field_error("name", "\xf0\x9f\x98\x80"), std::nullopt) << "U+1F600 is fine";
}

TEST(body_reader, repeated_property_names_are_refused_ignoring_case) {
  for (std::string text : {R"({"name":"a","Name":"b","publisher":"p"})",
                           R"({"name":"a","name":"b","publisher":"p"})",
                           R"({"NAME":"a","publisher":"p","nAmE":"a"})"}) {
    body_reader body{text};
    EXPECT_EQ(body.required_string("name"), "") << text;
    EXPECT_EQ(body.required_string("publisher"), "p") << text;
    ASSERT_FALSE(body.ok()) << text;
    auto& errors = body.failure().errors;
    ASSERT_EQ(errors.size(), 1u) << text;
    auto& [field, messages] = *errors.begin();
    EXPECT_TRUE(iequals(field, "name")) << text << ": under " << field;
    ASSERT_EQ(messages.size(), 1u) << "one error for the pair, none from required_string";
    EXPECT_NE(messages[0].find("is given more than once"), std::string::npos) << messages[0];
  }
  body_reader exact{R"({"name":"a","Name":"b"})"};
  exact.required_string("name");
  EXPECT_EQ(exact.failure().errors.at("name").at(0),
            "The property 'name' is given more than once ('name', 'Name'; names match "
            "ignoring case).");
  // In a nested object too (under "$"), and even among properties nobody reads.
  for (std::string text : {R"({"name":"a","extra":{"x":1,"X":2}})",
                           R"({"name":"a","extra":[{"k":1},{"k":2,"K":3}]})"}) {
    body_reader body{text};
    EXPECT_EQ(body.required_string("name"), "a");
    ASSERT_FALSE(body.ok()) << text;
    EXPECT_EQ(body.failure().errors.count("$"), 1u) << text;
  }
  body_reader unread{R"({"name":"a","zz":1,"ZZ":2})"};
  unread.required_string("name");
  EXPECT_FALSE(unread.ok());
  // The same name in sibling objects is not a repeat.
  body_reader siblings{R"({"name":"a","list":[{"k":1},{"k":2}],"o":{"name":"b"}})"};
  EXPECT_EQ(siblings.required_string("name"), "a");
  EXPECT_TRUE(siblings.ok());
}

TEST(body_reader, unknown_properties_are_ignored) {
  body_reader body{R"({"name":"Docker","id":99,"extra":{"deep":[1,2,{"x":null}]},"tags":[]})"};
  EXPECT_EQ(body.required_string("name"), "Docker");
  EXPECT_TRUE(body.ok());
}

TEST(body_reader, messages_quote_no_library_text) {
  for (std::string text : {"{", R"({"name":)", "[1,", "nul", "{\"a\" 1}"}) {
    body_reader body{text};
    ASSERT_FALSE(body.ok()) << text;
    auto& message = body.failure().errors.at("$").at(0);
    EXPECT_EQ(message.rfind("The body is not valid JSON (at byte ", 0), 0u) << message;
    EXPECT_EQ(message.find("json.exception"), std::string::npos) << message;
    EXPECT_EQ(message.find("parse error"), std::string::npos) << message;
  }
}

TEST(parse_positive_id, accepts_only_positive_32_bit_decimals) {
  EXPECT_EQ(parse_positive_id("1"), 1);
  EXPECT_EQ(parse_positive_id("2147483647"), 2147483647);
  for (auto bad : {"0", "-1", "2147483648", "99999999999", "abc", "", "+1", " 1", "1 ", "1a",
                   "0x10", "1.0"})
    EXPECT_FALSE(parse_positive_id(bad)) << bad;
}

TEST(content_type, json_and_suffixed_json_with_parameters) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("application/json; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("Application/JSON"));
  EXPECT_TRUE(is_json_content_type("application/merge-patch+json"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type(""));
  EXPECT_FALSE(is_json_content_type("application/jsonx"));
}

TEST(problem, has_rfc7807_members) {
  auto p = make_problem(404, "no platform 7");
  auto j = json::parse(to_json(p, "abc"));
  EXPECT_EQ(j["type"], "https://tools.ietf.org/html/rfc7231#section-6.5.4");
  EXPECT_EQ(j["title"], "Not Found");
  EXPECT_EQ(j["status"], 404);
  EXPECT_EQ(j["detail"], "no platform 7");
  EXPECT_EQ(j["traceId"], "abc");
  EXPECT_FALSE(j.contains("errors"));
}

TEST(problem_of, details_are_fixed_or_our_own_never_the_errors_text) {
  const auto category = caf::atom("http_test");
  actors::register_error_category(category, [](std::uint8_t code) -> actors::error_code {
    if (code == 1)
      return {"missing", actors::error_kind::not_found};
    return {"refused", actors::error_kind::invalid};
  });
  auto text = [](const char* s) { return caf::make_message(std::string{s}); };

  auto missing = problem_of(caf::error{1, category, text("Widget 7 is unknown.")}, "t1");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.detail, "Widget 7 is unknown.") << "our own text, without the code's name";

  const std::string sql = "SQLSTATE 23514: new row for relation \"platforms\" violates check "
                          "constraint \"platforms_name_check\"";
  auto refused = problem_of(caf::error{2, category, caf::make_message(sql)}, "t1");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.detail, "The values were refused by the service's rules.");

  auto down = problem_of(actors::make_error(actors::errc::unhandled_exception,
                                            "Cannot establish connection to the database. "
                                            "connection to server at \"127.0.0.1\" failed"),
                         "t1");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.detail, "The service could not complete the request in time; retry later.");
  auto late = problem_of(actors::make_error(actors::errc::deadline_exceeded,
                                            "platform.repository did not answer within 2s"));
  EXPECT_EQ(late.status, 503);
  EXPECT_EQ(late.detail, down.detail);

  auto bug = problem_of(caf::make_error(caf::sec::unexpected_message), "t1");
  EXPECT_EQ(bug.status, 500);
  EXPECT_EQ(bug.detail, "An unexpected error occurred; see the service log for traceId t1.");
}

class configured_server : public ::testing::Test {
protected:
  void SetUp() override {
    server_options opts;
    opts.max_connections = 8;
    opts.max_body = 1024;
    auto get_item = [](const httplib::Request& req, httplib::Response& res) {
      if (req.matches[1] == "boom")
        throw std::runtime_error("boom");
      res.set_content(R"({"ok":true})", "application/json");
    };
    auto post_item = [](const httplib::Request& req, httplib::Response& res) {
      body_reader body{req.body};
      auto name = body.required_string("name");
      if (!body.ok())
        return reply(res, body.failure());
      res.status = 201;
      res.set_content(json{{"name", name}}.dump(), "application/json");
    };
    auto ping = [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("pong " + std::to_string(req.body.size()), "text/plain");
    };
    svr = std::make_unique<running_server>(
      opts, metrics,
      std::vector<route>{{"/items/([^/]+)", "/items/{id}", get_item, nullptr},
                         {"/items", "/items", nullptr, post_item},
                         {"/ping", "/ping", nullptr, ping, post_body::none}});
  }

  httplib::Client client() { return httplib::Client("127.0.0.1", svr->port()); }

  static json problem_of(const httplib::Result& r) {
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
    return json::parse(r->body);
  }

  shared::metrics::registry metrics;
  std::unique_ptr<running_server> svr;
};

TEST_F(configured_server, answers_a_route_and_echoes_or_generates_the_request_id) {
  auto c = client();
  auto r = c.Get("/items/1", {{"X-Request-Id", "req-42"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("X-Request-Id"), "req-42");
  auto g = c.Get("/items/1", {{"X-Request-Id", "bad id with spaces"}});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->get_header_value("X-Request-Id").size(), 16u);
}

TEST_F(configured_server, unknown_route_is_a_404_problem) {
  auto r = client().Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(problem_of(r)["status"], 404);
}

TEST_F(configured_server, wrong_method_is_405_with_allow) {
  auto c = client();
  auto r = c.Delete("/items/1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD");
  EXPECT_EQ(problem_of(r)["status"], 405);
  auto p = c.Put("/items", "{}", "application/json");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 405);
  EXPECT_EQ(p->get_header_value("Allow"), "POST");
}

TEST_F(configured_server, non_json_write_is_415_and_oversized_body_is_413) {
  auto c = client();
  auto r = c.Post("/items", R"({"name":"x"})", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(problem_of(r)["status"], 415);
  auto big = c.Post("/items", std::string(4096, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(problem_of(big)["status"], 413);
}

TEST_F(configured_server, a_post_that_reads_no_body_needs_no_content_type) {
  auto c = client();
  auto bare = c.Post("/ping");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 200) << bare->body;
  EXPECT_EQ(bare->body, "pong 0");
  auto text = c.Post("/ping", "anything", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 200) << "the body is ignored, whatever its type";
  // Neither Content-Length nor Transfer-Encoding: no body (RFC 9112 6.3),
  // answered at once rather than after waiting for one until a read timeout.
  auto [answer, took] = support::raw_exchange(
    svr->port(), "POST /ping HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("\r\n\r\npong 0"), std::string::npos) << answer;
  EXPECT_LT(took, std::chrono::seconds(1));
  // A route that reads a JSON body still wants a JSON Content-Type.
  auto no_type = c.Post("/items");
  ASSERT_TRUE(no_type);
  EXPECT_EQ(no_type->status, 415);
  EXPECT_EQ(problem_of(no_type)["status"], 415);
}

TEST_F(configured_server, validation_problem_lists_field_errors) {
  auto r = client().Post("/items", R"({"name":""})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto p = problem_of(r);
  EXPECT_EQ(p["errors"]["name"][0], "The name field must not be empty.");
  EXPECT_EQ(p["traceId"], r->get_header_value("X-Request-Id"));
}

TEST_F(configured_server, handler_exception_is_a_500_problem_and_serving_goes_on) {
  auto c = client();
  auto r = c.Get("/items/boom", {{"X-Request-Id", "boom-1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(problem_of(r)["status"], 500);
  EXPECT_EQ(problem_of(r)["detail"],
            "An unexpected error occurred; see the service log for traceId boom-1.")
    << "the exception's text stays in the log";
  auto ok = c.Get("/items/2");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(configured_server, a_second_server_cannot_take_the_same_port) {
  auto second = std::make_unique<shared::http::server>(shared::http::server_options{}, metrics,
                                                       "test.second", std::vector<route>{});
  try {
    shared::http::listener taken{std::move(second), "127.0.0.1",
                                 static_cast<std::uint16_t>(svr->port()), caf::actor_addr{}};
    FAIL() << "a second listener bound port " << svr->port();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("cannot listen on 127.0.0.1:"), std::string::npos)
      << e.what();
  }
}

TEST_F(configured_server, keep_alive_survives_more_than_five_requests) {
  auto c = client();
  c.set_keep_alive(true);
  for (int i = 0; i < 20; ++i) {
    auto r = c.Get("/items/1");
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->get_header_value("Connection"), "") << "request " << i;
  }
}

TEST_F(configured_server, counts_requests_by_route_and_status) {
  auto c = client();
  c.Get("/items/1");
  c.Get("/items/2");
  c.Get("/nope");
  auto& requests = metrics.counter("http_requests_total", "");
  // The count is taken just after the response is written: wait for it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (requests.value({"GET", "unmatched", "404"}) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(requests.value({"GET", "/items/{id}", "200"}), 2);
  EXPECT_EQ(requests.value({"GET", "unmatched", "404"}), 1);
  EXPECT_NE(metrics.expose().find("http_request_duration_seconds_count{route=\"/items/{id}\"} 2"),
            std::string::npos);
}

// Readiness means "can serve its API": a check that is not required (the
// command service's subscriber) is reported but keeps the service ready.
TEST(operational_routes, readiness_fails_only_on_a_required_check) {
  shared::metrics::registry metrics;
  auto registry = std::make_shared<shared::metrics::registry>();
  bool database_up = true;
  auto routes = operational_routes(
    [&] {
      return std::vector<readiness_check>{{"database", database_up, database_up ? "up" : "down"},
                                          {"subscriber", false, "reconnecting", false}};
    },
    registry);
  running_server svr{server_options{}, metrics, routes};
  httplib::Client c{"127.0.0.1", svr.port()};
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body),
            json::parse(R"({"status":"Healthy","checks":{"database":"up","subscriber":"reconnecting"}})"));
  database_up = false;
  r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(json::parse(r->body)["status"], "Unhealthy");
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(json::parse(h->body), json::parse(R"({"status":"Healthy"})"));
}

// Each request is a span of the caller's trace (or of a new one), told back
// as traceresponse.
TEST_F(configured_server, a_request_continues_the_callers_trace_in_a_span_of_its_own) {
  auto c = client();
  auto r = c.Get("/items/1",
                 {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(r);
  auto span = r->get_header_value("traceresponse");
  ASSERT_EQ(span.size(), 55u) << span;
  EXPECT_EQ(span.substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
  EXPECT_NE(span.substr(36, 16), "00f067aa0ba902b7");
  EXPECT_EQ(span.substr(52), "-01");
  auto fresh = c.Get("/items/1", {{"traceparent", "not a trace"}});
  ASSERT_TRUE(fresh);
  auto started = fresh->get_header_value("traceresponse");
  ASSERT_EQ(started.size(), 55u) << started;
  EXPECT_NE(started.substr(3, 32), "4bf92f3577b34da6a3ce929d0e0e4736");
}

namespace {

shared::http::rest_config rest_settings(std::map<std::string, std::string> env) {
  std::vector<const char*> argv{"test"};
  actors::settings s{1, argv.data(), std::move(env)};
  auto c = shared::http::read_rest_config(s, 5000);
  s.finish();
  return c;
}

} // namespace

// HttpWorkers bounds the requests answered at once; the workers kept when
// idle cannot exceed it, and by default are the core count within it.
TEST(rest_settings, http_workers_is_validated_and_bounds_the_kept_workers) {
  EXPECT_EQ(rest_settings({}).server.workers, 64u);
  auto c = rest_settings({{"HttpWorkers", "8"}, {"HttpWorkersKept", "3"}});
  EXPECT_EQ(c.server.workers, 8u);
  EXPECT_EQ(c.server.workers_kept, 3u);
  EXPECT_EQ(rest_settings({{"HttpWorkers", "1"}}).server.workers_kept, 1u);
  EXPECT_THROW(rest_settings({{"HttpWorkers", "0"}}), actors::settings_error);
  EXPECT_THROW(rest_settings({{"HttpWorkers", "many"}}), actors::settings_error);
  try {
    rest_settings({{"HttpWorkers", "2"}, {"HttpWorkersKept", "4"}});
    ADD_FAILURE() << "HttpWorkersKept above HttpWorkers accepted";
  } catch (const actors::settings_error& e) {
    EXPECT_NE(std::string{e.what()}.find("HttpWorkersKept"), std::string::npos) << e.what();
  }
}
