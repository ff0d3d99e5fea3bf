// A request body as a client may send it, read the way both services read
// theirs: fields found or refused, the refusal written as problem+json.
#include <shared/http/problem.hpp>
#include <shared/http/request.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body{reinterpret_cast<const char*>(data), size};
  shared::http::body_reader reader{body};
  for (auto field : {"name", "publisher", "cost", "howTo", "commandLine"})
    (void) reader.required_string(field);
  if (!reader.ok())
    (void) shared::http::to_json(reader.failure(), "trace");
  return 0;
}
