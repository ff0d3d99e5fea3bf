#pragma once
// Polls a condition until it holds or the deadline passes: how tests wait for
// what a service does on its own time, without sleeps as assertions.
#include <chrono>
#include <functional>
#include <thread>

namespace support {

inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

} // namespace support
