#include "shared/metrics/process.hpp"

#include <actors/build_info.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace shared::metrics {

namespace {

using samples = std::vector<std::pair<label_values, double>>;

// Seconds since the epoch at which the machine booted (/proc/stat's btime).
std::optional<double> boot_time() {
  std::ifstream in{"/proc/stat"};
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double t = 0;
      if (in >> t)
        return t;
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

double open_fds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator i{"/proc/self/fd", ec}, end; !ec && i != end;
       i.increment(ec))
    ++n;
  return n;
}

double max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return 0;
  return static_cast<double>(limit.rlim_cur);
}

// Registers a gauge (or counter) read from one field of a fresh sample.
void sampled(registry& m, const std::string& name, const std::string& help,
             const std::string& type, double process_sample::*field) {
  m.collect(name, help, type, {}, [field]() -> samples {
    if (auto s = read_process())
      return {{{}, (*s).*field}};
    return {};
  });
}

std::string metric_name(std::string service) {
  for (auto& c : service)
    if (c == '-' || c == '.')
      c = '_';
  return service;
}

} // namespace

std::optional<process_sample> read_process() {
  std::ifstream in{"/proc/self/stat"};
  std::string stat{std::istreambuf_iterator<char>{in}, {}};
  // The command name may hold spaces: fields are counted after its ')'.
  auto close = stat.rfind(')');
  auto boot = boot_time();
  if (close == std::string::npos || !boot)
    return std::nullopt;
  std::istringstream fields{stat.substr(close + 1)};
  std::vector<std::string> f{std::istream_iterator<std::string>{fields}, {}};
  // After ')': state is field 3 of proc(5), so field n is f[n - 3].
  if (f.size() < 22)
    return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  process_sample s;
  s.cpu_seconds = (std::stod(f[14 - 3]) + std::stod(f[15 - 3])) / ticks;
  s.start_time_seconds = *boot + std::stod(f[22 - 3]) / ticks;
  s.virtual_bytes = std::stod(f[23 - 3]);
  s.resident_bytes = std::stod(f[24 - 3]) * page;
  return s;
}

std::shared_ptr<registry> service_registry(const std::string& service) {
  auto m = std::make_shared<registry>();
  sampled(*m, "process_cpu_seconds_total", "User and system CPU time spent in seconds",
          "counter", &process_sample::cpu_seconds);
  sampled(*m, "process_resident_memory_bytes", "Resident memory size in bytes", "gauge",
          &process_sample::resident_bytes);
  sampled(*m, "process_virtual_memory_bytes", "Virtual memory size in bytes", "gauge",
          &process_sample::virtual_bytes);
  sampled(*m, "process_start_time_seconds",
          "Start time of the process since the Unix epoch in seconds", "gauge",
          &process_sample::start_time_seconds);
  m->collect("process_open_fds", "Number of open file descriptors", "gauge", {},
             [] { return samples{{{}, open_fds()}}; });
  m->collect("process_max_fds", "Maximum number of open file descriptors", "gauge", {},
             [] { return samples{{{}, max_fds()}}; });
  auto b = actors::this_build();
  m->gauge(metric_name(service) + "_build_info", "The running build: version and commit",
           {"version", "commit"})
    .set({std::string{b.version}, std::string{b.commit}}, 1);
  return m;
}

} // namespace shared::metrics
