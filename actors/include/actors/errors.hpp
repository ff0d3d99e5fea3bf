#pragma once
// Errors of the actor runtime, as CAF error values (category atom "actors").
#include <caf/all.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace actors {

enum class errc : uint8_t {
  child_unavailable = 1, // the child behind a handle is down and did not return in time
  deadline_exceeded,     // a request got no answer within its deadline
  shutting_down,         // the service is stopping and takes no more work
  overloaded,            // too many requests wait for a restarting child
  gave_up,               // a supervisor exceeded its restart intensity
  unhandled_exception,   // a handler threw; the actor failed
};

// Declared right after the enum: CAF caches has_make_error<errc> on first use.
caf::error make_error(errc code, std::string context);
caf::error make_error(errc code);

std::string to_string(errc code);

// Names the codes of a service's own error enum, so that `describe` and
// `system.render` print "unknown_platform: 7", not numbers. Call it before the
// actor system starts (the runtime's own category is always known).
void register_error_category(caf::atom_value category,
                             std::function<std::string(uint8_t code)> code_name);

// Adds every registered category to `cfg` for `system.render(err)`.
void add_error_category(caf::actor_system_config& cfg);

// One line for logs and problem responses: "deadline_exceeded: platform.repository
// did not answer within 300ms", for the runtime's, CAF's and registered errors.
std::string describe(const caf::error& err);

} // namespace actors
