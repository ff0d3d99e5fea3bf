#pragma once
// The registry each service starts with: the process metrics every
// Prometheus client exports under the same names (read from /proc when
// scraped) and the build it runs:
//   process_cpu_seconds_total, process_resident_memory_bytes,
//   process_virtual_memory_bytes, process_open_fds, process_max_fds,
//   process_start_time_seconds,
//   <service>_build_info{version,commit} 1   (platform-service -> platform_service_build_info)
#include "shared/metrics/registry.hpp"

#include <memory>
#include <optional>
#include <string>

namespace shared::metrics {

std::shared_ptr<registry> service_registry(const std::string& service);

// One reading of /proc/self (nullopt where Linux did not answer).
struct process_sample {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0; // since the Unix epoch
};
std::optional<process_sample> read_process();

} // namespace shared::metrics
