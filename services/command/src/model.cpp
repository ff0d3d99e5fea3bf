#include "model.hpp"

#include <actors/errors.hpp>

namespace command {

caf::error make_error(errc code, std::string context) {
  return {static_cast<std::uint8_t>(code), caf::atom("command"),
          caf::make_message(std::move(context))};
}

bool is(const caf::error& err, errc code) {
  return err.category() == caf::atom("command") && err.code() == static_cast<std::uint8_t>(code);
}

namespace {

// Names our codes in actors::describe and in system.render.
[[maybe_unused]] const bool errors_named = [] {
  actors::register_error_category(caf::atom("command"), [](std::uint8_t code) -> std::string {
    switch (static_cast<errc>(code)) {
      case errc::unknown_platform: return "unknown_platform";
      case errc::unknown_command: return "unknown_command";
      case errc::database: return "database";
    }
    return "command_error_" + std::to_string(code);
  });
  return true;
}();

} // namespace

} // namespace command
