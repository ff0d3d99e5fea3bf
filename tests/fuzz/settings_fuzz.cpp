// Settings as an operator may write them: flags split at NUL bytes, read with
// every parser the services use; bad values are collected, never a crash.
#include <actors/settings.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  (void) actors::parse_duration(text);
  (void) actors::parse_integer(text);
  (void) actors::parse_boolean(text);
  (void) actors::mask_password(text);

  std::vector<std::string> args{"fuzz"};
  for (std::size_t start = 0; start <= text.size();) {
    auto end = text.find('\0', start);
    if (end == std::string::npos)
      end = text.size();
    args.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  actors::settings s{static_cast<int>(argv.size()), argv.data(), std::map<std::string, std::string>{}};
  (void) s.duration("Timeout", std::chrono::milliseconds{5}, "");
  (void) s.integer("Size", 1, 0, 100, "");
  (void) s.port("Port", 80, "");
  (void) s.boolean("On", true, "");
  (void) s.connection_string("Conn", "host=x", "");
  (void) s.choice("Level", "info", {"debug", "info"}, "");
  try {
    s.finish();
  } catch (const actors::settings_error&) {
  }
  (void) s.usage("fuzz");
  return 0;
}
