#include "model.hpp"

#include <actors/errors.hpp>

namespace command {

caf::error make_error(errc code, std::string context) {
  return {static_cast<std::uint8_t>(code), caf::atom("command"),
          caf::make_message(std::move(context))};
}

caf::error unknown_platform(std::int32_t id) {
  return make_error(errc::unknown_platform,
                    std::string{"Platform "}.append(std::to_string(id)).append(" is unknown."));
}

caf::error unknown_command(std::int32_t platform_id, std::int32_t command_id) {
  return make_error(errc::unknown_command, std::string{"Command "}
                                             .append(std::to_string(command_id))
                                             .append(" of platform ")
                                             .append(std::to_string(platform_id))
                                             .append(" is unknown."));
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
