#include "shared/sql/refusal.hpp"

#include <actors/errors.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace shared::sql {

namespace {

const caf::atom_value category = caf::atom("sql");

// Names and classifies the code for actors::describe and the HTTP mapping.
[[maybe_unused]] const bool errors_registered = [] {
  actors::register_error_category(category, [](std::uint8_t code) -> actors::error_code {
    switch (static_cast<errc>(code)) {
      case errc::refused: return {"refused", actors::error_kind::invalid};
    }
    return "sql_error_" + std::to_string(code);
  });
  return true;
}();

bool refused_state(const std::string& sqlstate) {
  return sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0;
}

bool refused_sqlite(int result) {
  switch (result & 0xff) { // the primary code of an extended one
    case SQLITE_TOOBIG:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH: return true;
    default: return false;
  }
}

} // namespace

caf::error make_error(errc code, std::string context) {
  return {static_cast<std::uint8_t>(code), category, caf::make_message(std::move(context))};
}

std::optional<caf::error> refusal_of(const soci::soci_error& e) {
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    auto state = pg->sqlstate();
    if (refused_state(state))
      return make_error(errc::refused, "SQLSTATE " + state + ": " + pg->get_error_message());
  } else if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    if (refused_sqlite(lite->result()))
      return make_error(errc::refused, "SQLite " + std::to_string(lite->result()) + ": "
                                         + lite->get_error_message());
  }
  return std::nullopt;
}

std::optional<caf::error> refuse_nul(std::initializer_list<std::string_view> texts) {
  for (auto text : texts)
    if (text.find('\0') != std::string_view::npos)
      return make_error(errc::refused, "SQLSTATE 22021: a text value contains NUL (0x00), which "
                                       "a text column cannot hold");
  return std::nullopt;
}

} // namespace shared::sql
