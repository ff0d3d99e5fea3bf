#include "model.hpp"

#include <actors/errors.hpp>

namespace command {

caf::error make_error(errc code, std::string context) {
  return {static_cast<std::uint8_t>(code), caf::atom("command"),
          caf::make_message(std::move(context))};
}

namespace {

// Names and classifies our codes for actors::describe, kind_of and system.render.
[[maybe_unused]] const bool errors_registered = [] {
  using actors::error_kind;
  auto describe = [](std::uint8_t code) -> actors::error_code {
    switch (static_cast<errc>(code)) {
      case errc::unknown_platform: return {"unknown_platform", error_kind::not_found};
      case errc::unknown_command: return {"unknown_command", error_kind::not_found};
    }
    return "command_error_" + std::to_string(code);
  };
  actors::register_error_category(caf::atom("command"), describe);
  return true;
}();

} // namespace

} // namespace command
