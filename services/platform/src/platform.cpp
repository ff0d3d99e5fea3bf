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
      case platform_errc::key_reused: return {"key_reused", actors::error_kind::conflict};
    }
    return "platform_error_" + std::to_string(code);
  });
  return true;
}();

nlohmann::json event_json(const platform_record& p) {
  return {{"Id", p.id}, {"Name", p.name}, {"Event", platform_published}};
}

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
  return event_json(p).dump();
}

event_text published_event_around_id(const std::string& name) {
  // Keys come sorted (Event, Id, Name) and Event's value is fixed, so the
  // first "Id":0 is the key: a name's quotes are escaped inside its string.
  // A name that is not UTF-8 is encoded (replaced) rather than thrown: the
  // statement's platform INSERT refuses it (SQLSTATE 22021) and the event
  // is never stored.
  auto body = event_json({0, name, {}, {}}).dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace);
  const std::string id_key = "\"Id\":";
  auto at = body.find(id_key + "0") + id_key.size();
  return {body.substr(0, at), body.substr(at + 1)};
}

caf::error make_error(platform_errc code, std::string context) {
  return {static_cast<std::uint8_t>(code), category, caf::make_message(std::move(context))};
}

bool is(const caf::error& err, platform_errc code) {
  return err.category() == category && err.code() == static_cast<std::uint8_t>(code);
}

} // namespace platform
