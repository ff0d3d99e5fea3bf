#include "platform.hpp"

#include <actors/errors.hpp>

namespace platform {

namespace {

const caf::atom_value category = caf::atom("platform");

// Names and classifies our codes for actors::describe and the HTTP mapping.
[[maybe_unused]] const bool errors_registered = [] {
  actors::register_error_category(category, [](std::uint8_t code) -> actors::error_code {
    switch (static_cast<platform_errc>(code)) {
      case platform_errc::not_found: return {"not_found", actors::error_kind::not_found};
    }
    return "platform_error_" + std::to_string(code);
  });
  return true;
}();

} // namespace

nlohmann::json to_json(const platform_record& p) {
  return {{"id", p.id}, {"name", p.name}, {"publisher", p.publisher}, {"cost", p.cost}};
}

std::string to_json_array(const std::vector<platform_record>& ps) {
  auto array = nlohmann::json::array();
  for (auto& p : ps)
    array.push_back(to_json(p));
  return array.dump();
}

std::string published_event(const platform_record& p) {
  return nlohmann::json{{"Id", p.id}, {"Name", p.name}, {"Event", platform_published}}.dump();
}

caf::error make_error(platform_errc code, std::string context) {
  return {static_cast<std::uint8_t>(code), category, caf::make_message(std::move(context))};
}

bool is(const caf::error& err, platform_errc code) {
  return err.category() == category && err.code() == static_cast<std::uint8_t>(code);
}

} // namespace platform
