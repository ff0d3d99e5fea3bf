#include "outbox/outbox_listener.hpp"

#include "store/platform_store.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>

namespace platform {

namespace {

using namespace std::chrono_literals;

const std::string name = "platform.outbox_listener";

// Returns once an exit_msg arrived (the mailbox is read between waits of at
// most 200 ms on the database socket).
void listen(caf::blocking_actor* self, platform_store& store, relay_doorbell& doorbell) {
  for (bool running = true; running;) {
    if (store.wait_for_relay_wake(200ms))
      doorbell.ring_from_replica();
    self->receive(
      [&](caf::exit_msg& em) {
        running = false;
        self->fail_state(std::move(em.reason));
      },
      caf::after(0ms) >> [] {});
  }
}

void outbox_listener(caf::blocking_actor* self, std::string database,
                     std::shared_ptr<relay_doorbell> doorbell) {
  try {
    platform_store store{database};
    store.listen_for_relay_wakes();
    actors::log::info(name, "listening", {{"detail", "relay wakes from other replicas"}});
    listen(self, store, *doorbell);
  } catch (const std::exception& e) {
    actors::log::error(name, "failed", {{"error", e.what()}});
    self->fail_state(actors::make_error(actors::errc::unhandled_exception, e.what()));
  }
}

} // namespace

caf::actor spawn_outbox_listener(caf::actor_system& sys, std::string database,
                                 std::shared_ptr<relay_doorbell> doorbell) {
  return sys.spawn(outbox_listener, std::move(database), std::move(doorbell));
}

} // namespace platform
