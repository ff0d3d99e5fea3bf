#pragma once
// What the end-to-end latency benchmarks share: creates sent open-loop at a
// fixed rate, each with its own X-Request-Id, and the command service's
// `event_applied` log lines that time each one (command_e2e_latency on the
// fixture's servers, stack_probe on a running stack).
#include <atomic>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

namespace command_bench {

using clock_type = std::chrono::steady_clock;

struct create {
  int id = 0; // 0 unless the answer was 201
  clock_type::time_point scheduled, sent, returned;
  std::chrono::system_clock::time_point returned_wall; // to compare with log time stamps
};

std::string request_id(const std::string& tag, int i);

// POSTs `count` platforms to 127.0.0.1:`port`, the i-th at start + i * period,
// spread round-robin over `senders` threads (one keep-alive connection each);
// a create whose answer is not 201 is counted in `errors`.
std::vector<create> send_creates(int port, int count, clock_type::duration period, int senders,
                                 const std::string& tag, std::atomic<int>& errors);

// When the command service logged each `event_applied` line of the creates
// tagged `tag`, by request id: "ts=2026-11-25T10:39:40.005Z ... request_id=e2e-17".
std::unordered_map<std::string, std::chrono::system_clock::time_point>
applied_times(const std::vector<std::string>& lines, const std::string& tag);

// 201 -> applied for each create that has an applied line, in ms (stamps are
// truncated to the millisecond, so a figure can read up to 1 ms low).
std::vector<double> applied_after_201(const std::vector<create>& creates,
                                      const std::vector<std::string>& command_log,
                                      const std::string& tag);

double ms(clock_type::duration d);

// The q-quantile (0..1) of `xs`, sorted in place; 0 when empty.
double quantile(std::vector<double>& xs, double q);

// "what  p50 .. p90 .. p99 .. max .. ms (n=..)" on stdout.
void print_percentiles(const char* what, std::vector<double> xs);

} // namespace command_bench
