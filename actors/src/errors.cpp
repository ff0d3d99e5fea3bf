#include "actors/errors.hpp"

#include <map>
#include <mutex>
#include <optional>

namespace actors {

namespace {

const caf::atom_value category = caf::atom("actors");

using code_namer = std::function<error_code(uint8_t)>;

std::mutex categories_mutex;

std::map<caf::atom_value, code_namer>& categories() {
  static std::map<caf::atom_value, code_namer> known{
    {category, [](uint8_t code) { return to_string(static_cast<errc>(code)); }}};
  return known;
}

std::optional<code_namer> namer_of(caf::atom_value cat) {
  std::lock_guard guard{categories_mutex};
  auto i = categories().find(cat);
  if (i == categories().end())
    return std::nullopt;
  return i->second;
}

std::string render(const code_namer& name, uint8_t code, const caf::message& context) {
  auto text = name(code).name;
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

void register_error_category(caf::atom_value cat, code_namer code_name) {
  std::lock_guard guard{categories_mutex};
  categories()[cat] = std::move(code_name);
}

void add_error_category(caf::actor_system_config& cfg) {
  std::lock_guard guard{categories_mutex};
  for (auto& entry : categories()) // no structured binding: clang 14 cannot capture one
    cfg.add_error_category(entry.first, [name = entry.second](uint8_t code, caf::atom_value,
                                                              const caf::message& ctx) {
      return render(name, code, ctx);
    });
}

error_kind kind_of(const caf::error& err) {
  if (auto name = namer_of(err.category()))
    return (*name)(err.code()).kind;
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
      case caf::sec::request_receiver_down:
        return error_kind::unavailable;
      default:
        return error_kind::internal;
    }
  }
  return error_kind::unavailable;
}

std::string describe(const caf::error& err) {
  if (!err)
    return "none";
  if (auto name = namer_of(err.category()))
    return render(*name, err.code(), err.context());
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
