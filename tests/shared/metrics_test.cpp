// The Prometheus registry: families, label escaping, exposition text.
#include <shared/metrics/process.hpp>
#include <shared/metrics/registry.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <regex>

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
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("restarts_total{actor=\"repo\"} 3\n"), std::string::npos);
  EXPECT_EQ(&m.counter("requests_total", "ignored"), &c) << "same family by name";
}

TEST(metrics, bounds_print_in_their_shortest_round_trip_form) {
  registry m;
  auto& h = m.histogram("latency_seconds", "Latency");
  h.observe({}, 0.003);
  auto text = m.expose();
  for (auto bound : {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                     "0.5", "1", "2.5", "5", "10"})
    EXPECT_NE(text.find(std::string{"latency_seconds_bucket{le=\""}.append(bound).append("\"}")),
              std::string::npos) << bound << " in\n" << text;
  EXPECT_NE(text.find("latency_seconds_sum 0.003\n"), std::string::npos) << text;
}

namespace {

// The value of an unlabelled series, or -1.
double sample(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex{"\n" + name + " (\\S+)\n"}))
    return -1;
  return std::stod(m[1]);
}

} // namespace

TEST(metrics, a_service_registry_exposes_the_process_and_its_build) {
  auto m = service_registry("demo-service");
  auto text = std::string{"\n"}.append(m->expose());
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
  EXPECT_GE(sample(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(sample(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(sample(text, "process_virtual_memory_bytes"), sample(text, "process_resident_memory_bytes"));
  EXPECT_GE(sample(text, "process_open_fds"), 3) << "stdin, stdout, stderr at least";
  EXPECT_GT(sample(text, "process_max_fds"), sample(text, "process_open_fds"));
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto started = sample(text, "process_start_time_seconds");
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 600) << "this test process started minutes ago at most";
  EXPECT_NE(text.find("# TYPE demo_service_build_info gauge\n"
                      "demo_service_build_info{version=\"" PROJECT_VERSION "\",commit=\""),
            std::string::npos) << text;
}
