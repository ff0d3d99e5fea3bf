#include "actors/handle.hpp"

#include "actors/errors.hpp"
#include "actors/log.hpp"

#include <deque>

namespace actors {

namespace {

// Control messages of the front: own types, so they never collide with the
// messages it forwards.
struct front_serve {
  caf::actor child;
};
struct front_close {};
struct front_sweep {};

} // namespace
} // namespace actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actors::front_serve)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actors::front_close)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(actors::front_sweep)

namespace actors {

namespace {

using clock = std::chrono::steady_clock;

struct waiting_message {
  caf::message content;
  caf::response_promise promise;
  clock::time_point deadline;
};

struct front_state {
  std::string name;
  handle_options options;
  caf::actor child;
  bool closed = false;
  bool sweep_scheduled = false;
  std::deque<waiting_message> waiting;
  std::shared_ptr<std::atomic<std::size_t>> held; // waiting.size(), for observers
};

using front_actor = caf::stateful_actor<front_state>;

// Answers a message that will never reach a child; async messages have no one
// to answer, so they are at least logged.
void refuse(front_actor* self, waiting_message& msg, const caf::error& why) {
  if (msg.promise.async())
    log::warn(self->state.name, "message_dropped", {{"reason", describe(why)}});
  else
    msg.promise.deliver(why);
}

void refuse_all(front_actor* self, const caf::error& why) {
  for (auto& msg : self->state.waiting)
    refuse(self, msg, why);
  self->state.waiting.clear();
  *self->state.held = 0;
}

void schedule_sweep(front_actor* self) {
  auto& st = self->state;
  if (st.sweep_scheduled || st.waiting.empty())
    return;
  st.sweep_scheduled = true;
  auto delay = st.waiting.front().deadline - clock::now();
  self->delayed_send(self, std::max(delay, clock::duration::zero()), front_sweep{});
}

void sweep(front_actor* self) {
  auto& st = self->state;
  st.sweep_scheduled = false;
  auto now = clock::now();
  auto why = make_error(errc::child_unavailable,
                        st.name + " was not back within "
                          + std::to_string(st.options.max_wait.count()) + "ms");
  while (!st.waiting.empty() && st.waiting.front().deadline <= now) {
    refuse(self, st.waiting.front(), why);
    st.waiting.pop_front();
  }
  *st.held = st.waiting.size();
  schedule_sweep(self);
}

void deliver_waiting(front_actor* self) {
  auto& st = self->state;
  for (auto& msg : st.waiting)
    msg.promise.delegate(st.child, std::move(msg.content));
  st.waiting.clear();
  *st.held = 0;
}

caf::result<caf::message> hold(front_actor* self, caf::message_view& x) {
  auto& st = self->state;
  if (st.closed)
    return make_error(errc::shutting_down, st.name + " is stopping");
  if (st.waiting.size() >= st.options.max_pending)
    return make_error(errc::overloaded, st.name + " is restarting and "
                                          + std::to_string(st.waiting.size())
                                          + " messages already wait");
  auto promise = self->make_response_promise();
  st.waiting.push_back({x.move_content_to_message(), promise,
                        clock::now() + st.options.max_wait});
  *st.held = st.waiting.size();
  schedule_sweep(self);
  return promise;
}

caf::behavior front(front_actor* self, std::string name, handle_options options,
                    std::shared_ptr<std::atomic<std::size_t>> held) {
  self->state.name = std::move(name);
  self->state.options = options;
  self->state.held = std::move(held);
  self->set_default_handler([=](caf::scheduled_actor*, caf::message_view& x) {
    if (self->state.child)
      return caf::result<caf::message>{
        self->delegate(self->state.child, x.move_content_to_message())};
    return hold(self, x);
  });
  // The front watches the child itself, so it stops delegating the moment the
  // child is gone, before the supervisor's restart.
  self->set_down_handler([=](caf::down_msg& dm) {
    if (self->state.child && dm.source == self->state.child.address())
      self->state.child = caf::actor{};
  });
  self->set_exit_handler([=](caf::exit_msg& em) {
    refuse_all(self, make_error(errc::shutting_down, self->state.name + " is stopping"));
    self->quit(std::move(em.reason));
  });
  return {
    [=](front_serve& msg) {
      self->state.closed = false;
      self->state.child = std::move(msg.child);
      self->monitor(self->state.child);
      deliver_waiting(self);
    },
    // No restart will come: what waits for one is refused, and so is every
    // request once the child is gone; until then the child still serves (a
    // shutdown stops the front ends first, and they finish through us).
    [=](front_close) {
      self->state.closed = true;
      refuse_all(self, make_error(errc::shutting_down, self->state.name + " is stopping"));
    },
    [=](front_sweep) { sweep(self); },
  };
}

} // namespace

handle make_handle(caf::actor_system& sys, std::string name, handle_options options) {
  auto held = std::make_shared<std::atomic<std::size_t>>(0);
  auto front_actor_handle = sys.spawn(front, name, options, held);
  return handle{std::move(name), std::move(front_actor_handle), std::move(held)};
}

void serve(const handle& h, const caf::actor& child) {
  caf::anon_send(h.actor(), front_serve{child});
}

void close(const handle& h) {
  caf::anon_send(h.actor(), front_close{});
}

} // namespace actors
