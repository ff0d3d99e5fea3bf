// Problem bodies carrying whatever a client sent (an id, a header, a field):
// always valid JSON.
#include <shared/http/problem.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  int status = 400 + data[0] % 200;
  std::string text{reinterpret_cast<const char*>(data) + 1, size - 1};
  auto p = shared::http::make_problem(status, text);
  p.errors[text].push_back(text);
  auto body = shared::http::to_json(p, text);
  if (!nlohmann::json::accept(body))
    __builtin_trap(); // a problem body must always be JSON
  return 0;
}
