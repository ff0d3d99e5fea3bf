// The shared HTTP conventions: body reading, ids, problems, and a
// configured cpp-httplib server on a loopback port answering its error cases
// with problem+json.
#include "running_server.hpp"

#include <shared/metrics/registry.hpp>
#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>
#include <shared/http/server.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
    svr = std::make_unique<running_server>(
      opts, metrics,
      std::vector<route>{{"/items/([^/]+)", "/items/{id}", get_item, nullptr},
                         {"/items", "/items", nullptr, post_item}});
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
  auto r = c.Get("/items/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(problem_of(r)["status"], 500);
  auto ok = c.Get("/items/2");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
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
