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

// What a caller should make of an error; HTTP and gRPC statuses follow from it
// (shared::http maps them: 503, 404, 400, 422, 500), the same in every service.
enum class error_kind : uint8_t {
  unavailable, // the work could not be done now (an actor down, slow or failed): retry
  not_found,   // what was asked for does not exist
  invalid,     // the request can never succeed as it is
  conflict,    // well-formed, but contradicts what the service already holds
  internal,    // a bug (a message no actor understood): retrying will not help
};

// A code's name and kind, as a service registers it.
struct error_code {
  error_code(std::string name, error_kind kind = error_kind::unavailable)
    : name(std::move(name)), kind(kind) {}
  error_code(const char* name, error_kind kind = error_kind::unavailable)
    : name(name), kind(kind) {}
  std::string name;
  error_kind kind;
};

// Names (and classifies) the codes of a service's own error enum, so that
// `describe` and `system.render` print "unknown_platform: 7", not numbers, and
// `kind_of` knows a not-found from an outage. Call it before the actor system
// starts (the runtime's own category is always known: every code unavailable).
void register_error_category(caf::atom_value category,
                             std::function<error_code(uint8_t code)> describe_code);

// The registered kind; for CAF's own errors, unavailable when the target was
// down or too slow and internal otherwise; unavailable for anything else.
error_kind kind_of(const caf::error& err);

// Adds every registered category to `cfg` for `system.render(err)`.
void add_error_category(caf::actor_system_config& cfg);

// One line for logs and problem responses: "deadline_exceeded: platform.repository
// did not answer within 300ms", for the runtime's, CAF's and registered errors.
std::string describe(const caf::error& err);

} // namespace actors
