// The Prometheus registry: families, label escaping, exposition text.
#include <shared/metrics/registry.hpp>

#include <gtest/gtest.h>

using namespace shared::metrics;

TEST(metrics, exposes_counters_gauges_and_cumulative_histograms) {
  registry m;
  auto& c = m.counter("requests_total", "Requests", {"route", "status"});
  c.inc({"/a", "200"});
  c.inc({"/a", "200"});
  c.inc({"/b\"x", "404"});
  m.gauge("backlog", "Rows").set({}, 7);
  auto& h = m.histogram("latency_seconds", "Latency", {"route"}, {0.1, 1});
  h.observe({"/a"}, 0.05);
  h.observe({"/a"}, 0.5);
  h.observe({"/a"}, 5);
  m.collect("restarts_total", "Restarts", "counter", {"actor"},
            [] { return std::vector<std::pair<label_values, double>>{{{"repo"}, 3}}; });
  auto text = m.expose();
  EXPECT_NE(text.find("# TYPE requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("requests_total{route=\"/a\",status=\"200\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("requests_total{route=\"/b\\\"x\",status=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("backlog 7\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"0.10000000000000001\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("restarts_total{actor=\"repo\"} 3\n"), std::string::npos);
  EXPECT_EQ(&m.counter("requests_total", "ignored"), &c) << "same family by name";
}
