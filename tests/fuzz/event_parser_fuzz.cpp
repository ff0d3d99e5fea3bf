// An event body as the bus may deliver it: parsed, or told malformed.
#include <events/event_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void) command::parse_event({reinterpret_cast<const char*>(data), size});
  return 0;
}
