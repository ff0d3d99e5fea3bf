#include "creates.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <thread>

using namespace std::chrono_literals;

namespace command_bench {

std::string request_id(const std::string& tag, int i) {
  return tag + "-" + std::to_string(i);
}

std::vector<create> send_creates(int port, int count, clock_type::duration period, int senders,
                                 const std::string& tag, std::atomic<int>& errors) {
  std::vector<create> out(static_cast<std::size_t>(count));
  auto start = clock_type::now() + 20ms;
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      httplib::Client cli{"127.0.0.1", port};
      cli.set_tcp_nodelay(true);
      cli.set_keep_alive(true);
      for (int i = s; i < count; i += senders) {
        auto& c = out[static_cast<std::size_t>(i)];
        c.scheduled = start + i * period;
        std::this_thread::sleep_until(c.scheduled);
        c.sent = clock_type::now();
        auto body = nlohmann::json{{"name", tag + "-" + std::to_string(i)},
                                   {"publisher", "e2e"}, {"cost", "Free"}};
        auto r = cli.Post("/api/platforms", {{"X-Request-Id", request_id(tag, i)}}, body.dump(),
                          "application/json");
        c.returned = clock_type::now();
        c.returned_wall = std::chrono::system_clock::now();
        if (r && r->status == 201)
          c.id = nlohmann::json::parse(r->body)["id"].get<int>();
        else
          ++errors;
      }
    });
  for (auto& t : threads)
    t.join();
  return out;
}

std::unordered_map<std::string, std::chrono::system_clock::time_point>
applied_times(const std::vector<std::string>& lines, const std::string& tag) {
  std::unordered_map<std::string, std::chrono::system_clock::time_point> out;
  const std::string id_key = "request_id=" + tag + "-";
  for (auto& line : lines) {
    auto ts = line.find("ts="), id = line.find(id_key);
    if (ts == std::string::npos || id == std::string::npos
        || line.find("event=event_applied") == std::string::npos)
      continue;
    std::tm t{};
    int millis = 0;
    if (std::sscanf(line.c_str() + ts + 3, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &t.tm_year, &t.tm_mon,
                    &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec, &millis) != 7)
      continue;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    auto at = std::chrono::system_clock::from_time_t(timegm(&t)) + std::chrono::milliseconds(millis);
    auto value = line.substr(id + 11, line.find(' ', id) - id - 11);
    out.emplace(value, at);
  }
  return out;
}

std::vector<double> applied_after_201(const std::vector<create>& creates,
                                      const std::vector<std::string>& command_log,
                                      const std::string& tag) {
  auto applied = applied_times(command_log, tag);
  std::vector<double> out;
  for (std::size_t i = 0; i < creates.size(); ++i)
    if (auto a = applied.find(request_id(tag, static_cast<int>(i))); a != applied.end())
      out.push_back(ms(a->second - creates[i].returned_wall));
  return out;
}

double ms(clock_type::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double quantile(std::vector<double>& xs, double q) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[static_cast<std::size_t>(q * static_cast<double>(xs.size() - 1))];
}

void print_percentiles(const char* what, std::vector<double> xs) {
  if (xs.empty())
    return void(std::printf("%-44s no samples\n", what));
  auto p50 = quantile(xs, 0.5);
  std::printf("%-44s p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms  (n=%zu)\n", what, p50,
              quantile(xs, 0.9), quantile(xs, 0.99), xs.back(), xs.size());
}

} // namespace command_bench
