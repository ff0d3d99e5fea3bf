#include "actors/errors.hpp"

namespace actors {

namespace {

const caf::atom_value category = caf::atom("actors");

std::string render(uint8_t code, const caf::message& context) {
  auto text = to_string(static_cast<errc>(code));
  if (context.match_elements<std::string>())
    text += ": " + context.get_as<std::string>(0);
  return text;
}

} // namespace

caf::error make_error(errc code, std::string context) {
  return {static_cast<uint8_t>(code), category, caf::make_message(std::move(context))};
}

caf::error make_error(errc code) {
  return {static_cast<uint8_t>(code), category};
}

std::string to_string(errc code) {
  switch (code) {
    case errc::child_unavailable: return "child_unavailable";
    case errc::deadline_exceeded: return "deadline_exceeded";
    case errc::shutting_down: return "shutting_down";
    case errc::overloaded: return "overloaded";
    case errc::gave_up: return "gave_up";
    case errc::unhandled_exception: return "unhandled_exception";
  }
  return "unknown(" + std::to_string(static_cast<int>(code)) + ")";
}

void add_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(category, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
    return render(code, ctx);
  });
}

std::string describe(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() == category)
    return render(err.code(), err.context());
  if (err.category() == caf::atom("system")) {
    auto text = caf::to_string(static_cast<caf::sec>(err.code()));
    if (!err.context().empty())
      text += ": " + caf::to_string(err.context());
    return text;
  }
  if (err.category() == caf::atom("exit"))
    return caf::to_string(static_cast<caf::exit_reason>(err.code()));
  return caf::to_string(err);
}

} // namespace actors
