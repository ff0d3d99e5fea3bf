#include "actors/backoff.hpp"

#include <algorithm>
#include <mutex>
#include <random>

namespace actors {

std::chrono::milliseconds backoff_delay(const backoff_policy& policy, unsigned attempt,
                                        double unit_random) {
  using std::chrono::milliseconds;
  // Doubling stops once the cap is reached, so large attempts cannot overflow.
  double delay = static_cast<double>(policy.min.count());
  for (unsigned i = 1; i < attempt && delay < static_cast<double>(policy.max.count()); ++i)
    delay *= 2;
  delay = std::min(delay, static_cast<double>(policy.max.count()));
  auto jitter = std::clamp(policy.jitter, 0.0, 1.0);
  delay *= 1.0 + jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  return milliseconds{static_cast<milliseconds::rep>(std::max(delay, 0.0))};
}

std::chrono::milliseconds backoff_delay(const backoff_policy& policy, unsigned attempt) {
  static std::mutex mutex;
  static std::mt19937_64 engine{std::random_device{}()};
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  double r;
  {
    std::lock_guard guard{mutex};
    r = unit(engine);
  }
  return backoff_delay(policy, attempt, r);
}

} // namespace actors
