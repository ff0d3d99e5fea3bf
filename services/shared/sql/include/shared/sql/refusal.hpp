#pragma once
// Statements the database refuses because of the values they carry, told
// apart from a database that is away.
//
// A refusal can never succeed as it is: PostgreSQL's SQLSTATE class 22 (data
// exception: invalid UTF-8, a value out of range) or 23 (integrity constraint
// violation: a CHECK, NOT NULL, unique or foreign key), SQLite's
// SQLITE_CONSTRAINT, SQLITE_MISMATCH and SQLITE_TOOBIG. The stores return it
// as an error value of category "sql", kind invalid (HTTP 400, with a fixed
// detail: the database's text goes to the log only), and their repository
// actor keeps serving on the same session.
//
// Anything else (the connection lost, the server shutting down, a statement
// that does not parse) is not a refusal: it is thrown on, fails the
// repository actor, and its supervisor reconnects.
#include <caf/all.hpp>
#include <soci/soci.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace shared::sql {

enum class errc : std::uint8_t {
  refused = 1, // context: the SQLSTATE (or SQLite's code) and the database's message
};

// Declared right after the enum: CAF caches has_make_error<errc> on first use.
caf::error make_error(errc code, std::string context);

// The refusal `e` is; nullopt when it is not one.
std::optional<caf::error> refusal_of(const soci::soci_error& e);

// A value PostgreSQL's text cannot hold: libpq passes text parameters as C
// strings, so "Dock\0er" would be stored as "Dock". Refused as PostgreSQL
// refuses other characters it cannot store (SQLSTATE 22021), for either
// backend (SQLite would store it and read it back cut). Nullopt when every
// text is storable.
std::optional<caf::error> refuse_nul(std::initializer_list<std::string_view> texts);

namespace detail {
template <class T>
struct expected_of {
  using type = caf::expected<T>;
};
template <class T>
struct expected_of<caf::expected<T>> {
  using type = caf::expected<T>;
};
} // namespace detail

// Runs `f` (a write): its value (`f` may return a caf::expected itself), or
// the refusal it threw as an error value. Other errors are thrown on. The
// statement's transaction lives inside `f`, so it has rolled back when the
// refusal is returned.
template <class F>
auto refusing(F&& f) -> typename detail::expected_of<std::invoke_result_t<F>>::type {
  try {
    return f();
  } catch (const soci::soci_error& e) {
    if (auto refused = refusal_of(e))
      return std::move(*refused);
    throw;
  }
}

} // namespace shared::sql
