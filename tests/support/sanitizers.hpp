#pragma once
// What a sanitizer build (the `asan` preset) changes for the tests: ASan's
// allocator keeps freed memory in quarantine and maps shadow memory, so a
// process's resident memory describes ASan rather than the code; and
// instrumented code runs a few times slower. Memory goals are checked in the
// Release suite; wall-clock goals are scaled here.
namespace support {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_address_sanitizer = true;
#else
inline constexpr bool under_address_sanitizer = false;
#endif

inline constexpr int sanitizer_slowdown = under_address_sanitizer ? 4 : 1;

} // namespace support
