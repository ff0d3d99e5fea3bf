#pragma once
// Every response a test's HTTP client receives, recorded for the contract
// check: when CONTRACT_RESPONSES names a file (ctest sets it for the
// integration tests), each response is one JSON line there (method, path,
// status, headers, body), and tests/contract/validate checks them all
// against services/*/openapi.yaml. Without the variable nothing is recorded.
//
//   httplib::Client c{"127.0.0.1", port};
//   support::record_responses(c);
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>

namespace support {

namespace detail {

// Appends one line; the file is emptied by the process's first line.
inline void record_line(const std::string& line) {
  static std::mutex mutex;
  static bool first = true;
  const char* path = std::getenv("CONTRACT_RESPONSES");
  if (!path || !*path)
    return;
  std::lock_guard guard{mutex};
  std::ofstream out{path, first ? std::ios::trunc : std::ios::app};
  first = false;
  out << line << '\n';
}

} // namespace detail

// Bodies past this are recorded without their text (status and headers are
// still checked): a catalogue of 150,000 platforms proves nothing more.
inline constexpr std::size_t recorded_body_limit = 1 << 20;

inline void record_responses(httplib::Client& client) {
  if (!std::getenv("CONTRACT_RESPONSES"))
    return;
  client.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    nlohmann::json headers = nlohmann::json::object();
    for (auto& [name, value] : res.headers)
      headers[name] = value;
    nlohmann::json line = {{"method", req.method}, {"path", req.path}, {"status", res.status},
                           {"headers", headers}};
    if (res.body.size() <= recorded_body_limit)
      line["body"] = res.body;
    detail::record_line(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
}

} // namespace support
