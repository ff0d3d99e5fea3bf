#pragma once
// A supervisor in the OTP mould, built from CAF links and monitors: it starts
// its children in order, restarts a failed one after an exponential backoff,
// and when a child crash-loops beyond the restart intensity it stops the rest
// and fails itself, so that its parent decides (the root's parent is the
// process: see service.hpp). Supervisors nest through `supervisor_child`.
#include "actors/backoff.hpp"
#include "actors/handle.hpp"
#include "actors/restart_window.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace actors {

enum class restart_policy {
  permanent, // always restarted
  transient, // restarted only after an abnormal exit
  temporary, // never restarted
};

enum class strategy {
  one_for_one, // restart only the failed child
  rest_for_one, // also restart the children started after it (they depend on it)
};

using start_function = std::function<caf::actor(caf::actor_system&)>;

struct child_spec {
  std::string name;
  start_function start;
  restart_policy restart = restart_policy::permanent;
  std::optional<handle> serves; // the stable handle this child answers for
  std::chrono::milliseconds shutdown_timeout{5'000}; // then it is killed
};

// What a supervisor reports about its children: every event is logged, and
// an observer (tests, metrics) may watch them too.
struct supervision_event {
  enum kind_type {
    child_started,     // first start
    child_restarted,   // a later start
    child_failed,      // abnormal exit
    child_exited,      // normal exit
    restart_scheduled, // backoff begins
    gave_up,           // intensity exceeded: the supervisor fails
    child_stopped,     // stopped by the supervisor
    child_killed,      // did not stop within its shutdown timeout
  };
  kind_type kind;
  std::string supervisor;
  std::string child;
  unsigned instance = 0;
  unsigned attempt = 0;
  std::chrono::milliseconds backoff{0};
  std::string reason;
  restart_intensity intensity; // the supervisor's limit for this child
};

const char* to_string(supervision_event::kind_type kind);

using supervision_observer = std::function<void(const supervision_event&)>;

struct supervisor_spec {
  std::string name;
  actors::strategy strategy = strategy::one_for_one;
  restart_intensity intensity;
  backoff_policy backoff;
  std::vector<child_spec> children;
  supervision_observer observer; // called on the supervisor's thread; keep it short
};

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_spec spec);

// A one_for_one supervisor's spec, children to be added.
supervisor_spec one_for_one(std::string name, restart_intensity intensity, backoff_policy backoff,
                            supervision_observer observer = {});

// An observer that calls each of `observers` in turn (empty ones skipped).
supervision_observer fan_out(std::vector<supervision_observer> observers);

// A child served through a stable handle, named after it.
child_spec child(const handle& serves, start_function start,
                 restart_policy restart = restart_policy::permanent);

// A nested supervisor as a child of another.
child_spec supervisor_child(supervisor_spec spec,
                            restart_policy restart = restart_policy::permanent);

// Makes a handler's exception fail the actor with `unhandled_exception` and
// the exception's message (the reason the supervisor logs), instead of CAF's
// unstructured stderr print. Call it first in an event-based child's behavior.
void fail_on_exception(caf::scheduled_actor* self);

// The behavior of an actor whose work runs on threads it owns (a gRPC
// server): CAF ends an actor whose behavior is empty, so this one only holds
// it until it is told to exit.
caf::behavior hold_until_exit();

} // namespace actors
