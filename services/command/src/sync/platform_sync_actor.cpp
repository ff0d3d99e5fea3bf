#include "sync/platform_sync_actor.hpp"

#include "store/repository_actor.hpp"

#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>

namespace command {
namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

struct platform_sync_state {
  std::string name = "command.platform_sync";
  std::unique_ptr<platform_client> client;
  std::uint64_t run = 0;   // the latest sync; timers of earlier ones are void
  unsigned failures = 0;   // in a row, for the backoff
  std::shared_ptr<shared::metrics::registry> metrics;
  shared::metrics::counter_family* syncs = nullptr;
};

using sync_self = caf::stateful_actor<platform_sync_state>*;

void schedule(sync_self self, std::uint64_t run, std::chrono::milliseconds delay) {
  if (run == self->state.run)
    self->delayed_send(self, delay, tick_atom::value, run);
}

void failed(sync_self self, const platform_sync_config& config, std::uint64_t run,
            const std::string& error) {
  auto& st = self->state;
  auto delay = actors::backoff_delay(config.retry, ++st.failures);
  st.syncs->inc({"failed"});
  actors::log::warn(st.name, "sync_failed",
                    {{"error", error}, {"attempt", st.failures}, {"retry_in", delay}});
  schedule(self, run, delay);
}

void sync_now(sync_self self, const platform_sync_config& config, const actors::handle& repository) {
  auto run = ++self->state.run;
  std::vector<platform> platforms;
  try {
    platforms = self->state.client->fetch_all(config.deadline);
  } catch (const std::exception& e) {
    return failed(self, config, run, e.what());
  }
  auto fetched = platforms.size();
  self->request(repository.as<repository_actor>(), config.repository_timeout, add_atom::value,
                std::move(platforms))
    .then(
      [=](std::size_t added) {
        auto& st = self->state;
        st.failures = 0;
        st.syncs->inc({"ok"});
        actors::log::info(st.name, "synced", {{"fetched", fetched}, {"added", added}});
        schedule(self, run, config.interval);
      },
      [=](caf::error& err) { failed(self, config, run, actors::describe(err)); });
}

caf::behavior platform_sync(sync_self self, platform_sync_config config, actors::handle repository,
                            std::shared_ptr<shared::metrics::registry> metrics) {
  actors::fail_on_exception(self);
  self->state.client = std::make_unique<platform_client>(config.target, config.ca_pem);
  self->state.metrics = metrics;
  self->state.syncs = &metrics->counter("command_platform_syncs_total",
                                        "Platform syncs over gRPC by result", {"result"});
  self->send(self, sync_atom::value);
  return {
    [=](sync_atom) { sync_now(self, config, repository); },
    [=](tick_atom, std::uint64_t run) {
      if (run == self->state.run)
        sync_now(self, config, repository);
    },
  };
}

} // namespace

caf::actor spawn_platform_sync(caf::actor_system& sys, platform_sync_config config,
                               actors::handle repository,
                               std::shared_ptr<shared::metrics::registry> metrics) {
  return sys.spawn<caf::detached>(platform_sync, std::move(config), std::move(repository),
                                  std::move(metrics));
}

} // namespace command
