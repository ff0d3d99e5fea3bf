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

std::string describe(const caf::error& err) {
  if (err.category() != caf::atom("command"))
    return actors::describe(err);
  auto& ctx = err.context();
  auto text = ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0) : std::string{};
  switch (static_cast<errc>(err.code())) {
    case errc::unknown_platform: return "unknown_platform: " + text;
    case errc::unknown_command: return "unknown_command: " + text;
    case errc::database: return "database: " + text;
  }
  return text;
}

} // namespace command
