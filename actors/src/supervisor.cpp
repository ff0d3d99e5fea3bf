#include "actors/supervisor.hpp"

#include "actors/errors.hpp"
#include "actors/log.hpp"


namespace actors {
namespace {

// Timers of the supervisor; `instance` makes a timer of an earlier child
// instance harmless.
struct restart_due {
  std::size_t index;
  unsigned instance;
};
struct kill_due {
  std::size_t index;
  unsigned instance;
};

} // namespace
} // namespace actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actors::restart_due)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actors::kill_due)

namespace actors {
namespace {

using clock = std::chrono::steady_clock;

enum class phase { down, running, stopping };

struct child_entry {
  explicit child_entry(child_spec s, restart_intensity limits)
    : spec(std::move(s)), window(limits) {}
  child_spec spec;
  caf::actor current;
  caf::actor_addr last_address; // kept after an exit, to recognise its exit_msg
  unsigned instance = 0;
  phase state = phase::down;
  bool retired = false; // exited for good (temporary, or transient exiting normally)
  restart_window window;
};

struct supervisor_state {
  std::string name;
  supervisor_spec spec;
  std::vector<child_entry> children;
  std::optional<std::size_t> resume_from; // rest_for_one: start again from here
  bool shutting_down = false;
  caf::error final_reason;
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

bool is_normal(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal
         || reason == caf::exit_reason::user_shutdown;
}

void emit(supervisor_actor* self, supervision_event ev) {
  using kind = supervision_event::kind_type;
  auto lvl = log::level::info;
  if (ev.kind == kind::child_failed || ev.kind == kind::gave_up)
    lvl = log::level::error;
  else if (ev.kind == kind::restart_scheduled || ev.kind == kind::child_killed)
    lvl = log::level::warn;
  std::string event = to_string(ev.kind);
  switch (ev.kind) {
    case kind::child_started:
      log::write(lvl, ev.supervisor, event, {{"child", ev.child}, {"instance", ev.instance}});
      break;
    case kind::child_restarted:
      log::write(lvl, ev.supervisor, event,
                 {{"child", ev.child}, {"instance", ev.instance}, {"attempt", ev.attempt}});
      break;
    case kind::restart_scheduled:
      log::write(lvl, ev.supervisor, event,
                 {{"child", ev.child}, {"attempt", ev.attempt}, {"backoff", ev.backoff}});
      break;
    case kind::gave_up:
      log::write(lvl, ev.supervisor, event,
                 {{"child", ev.child}, {"restarts", ev.attempt}, {"reason", ev.reason}});
      break;
    default:
      log::write(lvl, ev.supervisor, event,
                 {{"child", ev.child}, {"instance", ev.instance}, {"reason", ev.reason}});
  }
  if (self->state.spec.observer)
    self->state.spec.observer(ev);
}

supervision_event event_of(supervisor_actor* self, supervision_event::kind_type kind,
                           const child_entry& c) {
  return {kind, self->state.name, c.spec.name, c.instance, 0, {}, {}, self->state.spec.intensity};
}

void on_child_down(supervisor_actor* self, std::size_t index, const caf::error& reason);

void start_child(supervisor_actor* self, std::size_t index) {
  auto& c = self->state.children[index];
  ++c.instance;
  caf::actor child;
  try {
    child = c.spec.start(self->system());
  } catch (const std::exception& e) {
    return on_child_down(self, index, make_error(errc::unhandled_exception,
                                                 std::string{"start: "} + e.what()));
  }
  c.current = child;
  c.last_address = child.address();
  c.state = phase::running;
  // Link: the child dies with us. Monitor: its exit reaches us even if it is
  // already gone (a behavior that threw while being built).
  self->link_to(child);
  self->monitor(child);
  if (c.spec.serves)
    serve(*c.spec.serves, child);
  auto ev = event_of(self, c.instance == 1 ? supervision_event::child_started
                                           : supervision_event::child_restarted, c);
  ev.attempt = static_cast<unsigned>(c.window.recent());
  emit(self, std::move(ev));
}

void stop_child(supervisor_actor* self, std::size_t index) {
  auto& c = self->state.children[index];
  c.state = phase::stopping;
  self->send_exit(c.current, caf::exit_reason::user_shutdown);
  self->delayed_send(self, c.spec.shutdown_timeout, kill_due{index, c.instance});
}

// Shutdown goes one child at a time, last started first, so that front-ends
// finish their work while what they depend on still runs.
void stop_next(supervisor_actor* self) {
  auto& children = self->state.children;
  for (auto i = children.size(); i-- > 0;) {
    if (children[i].state == phase::stopping)
      return; // wait for it
    if (children[i].state == phase::running)
      return stop_child(self, i);
  }
  self->quit(self->state.final_reason);
}

void begin_shutdown(supervisor_actor* self, caf::error reason) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  st.shutting_down = true;
  st.final_reason = std::move(reason);
  // A shutdown asked from outside is final: callers should not wait for a restart.
  if (st.final_reason == caf::exit_reason::user_shutdown)
    for (auto& c : st.children)
      if (c.spec.serves)
        close(*c.spec.serves);
  stop_next(self);
}

// Starts children from `from` (one_for_one: only that one) that are down;
// waits if one of them is still stopping.
void start_from(supervisor_actor* self, std::size_t from) {
  auto& st = self->state;
  auto last = st.spec.strategy == strategy::rest_for_one ? st.children.size() : from + 1;
  for (auto i = from; i < last; ++i) {
    auto& c = st.children[i];
    if (c.state == phase::stopping) {
      st.resume_from = i;
      return;
    }
    if (c.state == phase::down && !c.retired)
      start_child(self, i);
  }
  st.resume_from.reset();
}

bool should_restart(const child_entry& c, const caf::error& reason) {
  switch (c.spec.restart) {
    case restart_policy::permanent: return true;
    case restart_policy::transient: return !is_normal(reason);
    case restart_policy::temporary: return false;
  }
  return false;
}

void schedule_restart(supervisor_actor* self, std::size_t index, const caf::error& reason) {
  auto& st = self->state;
  auto& c = st.children[index];
  if (!c.window.try_record(clock::now())) {
    auto ev = event_of(self, supervision_event::gave_up, c);
    ev.attempt = static_cast<unsigned>(st.spec.intensity.max_restarts);
    ev.reason = describe(reason);
    emit(self, ev);
    auto within = std::to_string(st.spec.intensity.within.count());
    return begin_shutdown(self, make_error(errc::gave_up,
                                           st.name + ": " + c.spec.name + " failed more than "
                                             + std::to_string(ev.attempt) + " times within "
                                             + within + "ms; last reason: " + ev.reason));
  }
  auto attempt = static_cast<unsigned>(c.window.recent());
  auto delay = backoff_delay(st.spec.backoff, attempt);
  // rest_for_one: the children started after this one depend on it; stop them
  // now (last first) and start them again after it.
  if (st.spec.strategy == strategy::rest_for_one)
    for (auto i = st.children.size(); i-- > index + 1;)
      if (st.children[i].state == phase::running)
        stop_child(self, i);
  auto ev = event_of(self, supervision_event::restart_scheduled, c);
  ev.attempt = attempt;
  ev.backoff = delay;
  emit(self, ev);
  self->delayed_send(self, delay, restart_due{index, c.instance});
}

void on_child_down(supervisor_actor* self, std::size_t index, const caf::error& reason) {
  auto& st = self->state;
  auto& c = st.children[index];
  auto was = c.state;
  c.state = phase::down;
  c.current = caf::actor{};
  auto ev = event_of(self, supervision_event::child_stopped, c);
  ev.reason = describe(reason);
  if (was == phase::stopping) {
    emit(self, ev);
    if (st.shutting_down)
      return stop_next(self);
    if (st.resume_from)
      start_from(self, *st.resume_from);
    return;
  }
  if (st.shutting_down)
    return; // a failure while we stop: nothing to restart
  ev.kind = is_normal(reason) ? supervision_event::child_exited : supervision_event::child_failed;
  emit(self, ev);
  if (!should_restart(c, reason)) {
    c.retired = true;
    return;
  }
  schedule_restart(self, index, reason);
}

std::optional<std::size_t> index_of(supervisor_actor* self, const caf::actor_addr& addr) {
  auto& children = self->state.children;
  for (std::size_t i = 0; i < children.size(); ++i)
    if (children[i].current && children[i].current.address() == addr)
      return i;
  return std::nullopt;
}

bool is_child(supervisor_actor* self, const caf::actor_addr& addr) {
  for (auto& c : self->state.children)
    if (c.last_address == addr)
      return true;
  return false;
}

caf::behavior supervisor(supervisor_actor* self, supervisor_spec spec) {
  auto& st = self->state;
  st.name = spec.name;
  for (auto& c : spec.children)
    st.children.emplace_back(c, spec.intensity);
  spec.children.clear();
  st.spec = std::move(spec);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (auto i = index_of(self, dm.source))
      on_child_down(self, *i, dm.reason);
  });
  // Exits from children are handled as downs (above). An exit from anyone
  // else (the parent, or the process shutting down) stops the whole tree.
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (!is_child(self, em.source))
      begin_shutdown(self, std::move(em.reason));
  });
  for (std::size_t i = 0; i < self->state.children.size(); ++i)
    start_child(self, i);
  return {
    [=](restart_due due) {
      auto& c = self->state.children[due.index];
      if (!self->state.shutting_down && c.instance == due.instance && c.state == phase::down)
        start_from(self, due.index);
    },
    [=](kill_due due) {
      auto& c = self->state.children[due.index];
      if (c.instance != due.instance || c.state != phase::stopping)
        return;
      emit(self, event_of(self, supervision_event::child_killed, c));
      self->send_exit(c.current, caf::exit_reason::kill);
    },
  };
}

} // namespace

const char* to_string(supervision_event::kind_type kind) {
  switch (kind) {
    case supervision_event::child_started: return "child_started";
    case supervision_event::child_restarted: return "child_restarted";
    case supervision_event::child_failed: return "child_failed";
    case supervision_event::child_exited: return "child_exited";
    case supervision_event::restart_scheduled: return "restart_scheduled";
    case supervision_event::gave_up: return "gave_up";
    case supervision_event::child_stopped: return "child_stopped";
    case supervision_event::child_killed: return "child_killed";
  }
  return "unknown";
}

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_spec spec) {
  return sys.spawn(supervisor, std::move(spec));
}

supervision_observer fan_out(std::vector<supervision_observer> observers) {
  return [observers = std::move(observers)](const supervision_event& ev) {
    for (auto& observe : observers)
      if (observe)
        observe(ev);
  };
}

child_spec child(const handle& serves, start_function start, restart_policy restart) {
  return {serves.name(), std::move(start), restart, serves, std::chrono::milliseconds{5'000}};
}

supervisor_spec one_for_one(std::string name, restart_intensity intensity, backoff_policy backoff,
                            supervision_observer observer) {
  supervisor_spec s;
  s.name = std::move(name);
  s.strategy = strategy::one_for_one;
  s.intensity = intensity;
  s.backoff = backoff;
  s.observer = std::move(observer);
  return s;
}

child_spec supervisor_child(supervisor_spec spec, restart_policy restart) {
  // A nested supervisor stops its children one after another: give it their time.
  std::chrono::milliseconds timeout{1'000};
  for (auto& c : spec.children)
    timeout += c.shutdown_timeout;
  auto name = spec.name;
  return {std::move(name),
          [spec = std::move(spec)](caf::actor_system& sys) { return spawn_supervisor(sys, spec); },
          restart, std::nullopt, timeout};
}

void fail_on_exception(caf::scheduled_actor* self) {
  self->set_exception_handler([](std::exception_ptr& ep) -> caf::error {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      return make_error(errc::unhandled_exception, e.what());
    } catch (...) {
      return make_error(errc::unhandled_exception, "unknown exception");
    }
  });
}

caf::behavior hold_until_exit() {
  using hold_atom = caf::atom_constant<caf::atom("hold")>;
  return {[](hold_atom) {}};
}

} // namespace actors
