#include "outbox/outbox_listener_actor.hpp"

#include "outbox/relay_actor.hpp"
#include "store/notification_listener.hpp"
#include "store/outbox_store.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>

namespace platform {

namespace {

using namespace std::chrono_literals;

const std::string name = "platform.outbox_listener";

// Returns once an exit_msg arrived (the mailbox is read between waits of at
// most 200 ms on the database socket). While the relay restarts, its handle
// holds what is sent to it: one wake waiting is enough, and more would only
// be dropped one by one (each logged) if the restart outlasts the handle's wait.
void listen(caf::blocking_actor* self, notification_listener& commits,
            const actors::handle& relay) {
  auto target = relay.as<outbox_relay_actor>();
  for (bool running = true; running;) {
    if (commits.wait(200ms) && !(relay.held() && *relay.held() > 0))
      caf::anon_send(target, wake_atom::value); // no answer comes back
    self->receive(
      [&](caf::exit_msg& em) {
        running = false;
        self->fail_state(std::move(em.reason));
      },
      caf::after(0ms) >> [] {});
  }
}

void outbox_listener(caf::blocking_actor* self, std::string database, actors::handle relay) {
  try {
    notification_listener commits{database, outbox_channel};
    actors::log::info(name, "listening", {{"channel", outbox_channel}});
    listen(self, commits, relay);
  } catch (const std::exception& e) {
    self->fail_state(actors::make_error(actors::errc::unhandled_exception, e.what()));
  }
}

} // namespace

caf::actor spawn_outbox_listener(caf::actor_system& sys, std::string database,
                                 actors::handle relay) {
  return sys.spawn(outbox_listener, std::move(database), std::move(relay));
}

} // namespace platform
