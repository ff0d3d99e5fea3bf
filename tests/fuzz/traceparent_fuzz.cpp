// traceparent as a caller, a message or gRPC metadata may send it: whatever
// parses writes back and parses again to the same context, and a child of
// anything is a valid traceparent. Never a crash.
#include <actors/trace.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  if (auto t = actors::trace::parse(text)) {
    auto again = actors::trace::parse(t->traceparent());
    if (!again || again->trace_id != t->trace_id || again->span_id != t->span_id
        || again->flags != t->flags)
      std::abort();
  }
  auto child = actors::trace::child_of(text);
  if (!actors::trace::parse(child.traceparent()))
    std::abort();
  return 0;
}
