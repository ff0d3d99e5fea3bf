#pragma once
// The Command Service's data and the messages its actors exchange.
#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace command {

// A platform as the Platform Service announced it: `id` is its id there (the
// course's ExternalID).
struct platform {
  std::int32_t id = 0;
  std::string name;
};

struct command_input {
  std::string how_to;
  std::string command_line;
};

struct command_record {
  std::int32_t id = 0;
  std::int32_t platform_id = 0;
  std::string how_to;
  std::string command_line;
};

// What became of one platform of a batch the store wrote together.
struct platform_write {
  bool added = false; // false: it was already there, or it was refused
  caf::error refused; // set when the store refused its values (kind invalid)
};

inline bool operator==(const platform& a, const platform& b) {
  return a.id == b.id && a.name == b.name;
}
inline bool operator==(const command_record& a, const command_record& b) {
  return a.id == b.id && a.platform_id == b.platform_id && a.how_to == b.how_to
         && a.command_line == b.command_line;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, platform& x) {
  return f(caf::meta::type_name("platform"), x.id, x.name);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, platform_write& x) {
  return f(caf::meta::type_name("platform_write"), x.added, x.refused);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_input& x) {
  return f(caf::meta::type_name("command_input"), x.how_to, x.command_line);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_record& x) {
  return f(caf::meta::type_name("command_record"), x.id, x.platform_id, x.how_to, x.command_line);
}

// Errors of the Command Service (category atom "command"), both not_found
// for actors::kind_of (so 404, with their text as the detail). Values the
// store refuses are shared::sql's refused (400); a store that fails fails the
// repository: the caller sees the runtime's error, which is unavailable (503).
enum class errc : std::uint8_t {
  unknown_platform = 1,
  unknown_command,
};

// Declared right after the enum: CAF caches has_make_error<errc> on first use.
caf::error make_error(errc code, std::string context);

// "Platform 7 is unknown."
caf::error unknown_platform(std::int32_t id);
// "Command 3 of platform 7 is unknown."
caf::error unknown_command(std::int32_t platform_id, std::int32_t command_id);

using add_atom = caf::atom_constant<caf::atom("add")>;
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using process_atom = caf::atom_constant<caf::atom("process")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;

} // namespace command
