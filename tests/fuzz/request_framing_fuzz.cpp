// Bytes as a client may send them, arriving in pieces: the framer decides
// where the request ends or which limit refuses it, and a complete request
// never claims more bytes than arrived.
#include <shared/http/request_framing.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  std::string_view all{reinterpret_cast<const char*>(data) + 1, size - 1};
  shared::http::framing_limits limits;
  limits.max_body = 256;
  limits.max_header_bytes = 512;
  limits.max_header_count = 8;
  shared::http::request_framer framer{limits};
  std::size_t step = data[0] % 16 + 1; // arrival in pieces of 1..16 bytes
  for (std::size_t have = 0; have < all.size();) {
    have = std::min(all.size(), have + step);
    auto input = all.substr(0, have);
    input.remove_prefix(framer.skippable(input));
    auto v = framer.advance(input);
    if (v.kind == shared::http::framing_verdict::complete && v.size > input.size())
      __builtin_trap();
    if (v.kind != shared::http::framing_verdict::incomplete)
      break;
  }
  return 0;
}
