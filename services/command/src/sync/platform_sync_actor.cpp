#include "sync/platform_sync_actor.hpp"

#include "store/repository_actor.hpp"

#include <actors/bridge.hpp>
#include <actors/errors.hpp>
#include <actors/log.hpp>
#include <actors/supervisor.hpp>
#include <actors/trace.hpp>

#include <malloc.h>

#include <optional>

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

// Each page is committed before the next is read: memory stays one page,
// and what arrived is kept if the stream breaks later.
std::size_t add_page(sync_self self, const platform_sync_config& config,
                     const actors::handle& repository, const std::vector<platform>& page) {
  auto added = actors::call<std::size_t>(self->system(), repository, config.repository_timeout,
                                         add_atom::value, page);
  if (!added)
    throw sync_error(std::string{"adding "}
                       .append(std::to_string(page.size()))
                       .append(" platforms: ")
                       .append(actors::describe(added.error())));
  return *added;
}

void sync_now(sync_self self, const platform_sync_config& config, const actors::handle& repository) {
  auto& st = self->state;
  auto run = ++st.run;
  // Each sync is a trace of its own, carried to the platform service.
  auto trace = actors::trace::child_of({});
  actors::log::context_scope scope{trace.log_fields()};
  auto started = std::chrono::steady_clock::now();
  std::size_t fetched = 0;
  std::size_t added = 0;
  sync_method method{};
  std::optional<std::string> error;
  try {
    method = st.client->fetch_all(
      config.deadline,
      [&](std::vector<platform> page) {
        fetched += page.size();
        added += add_page(self, config, repository, page);
      },
      trace.traceparent());
  } catch (const std::exception& e) {
    error = e.what();
  }
  // The pages are freed: give their memory back to the system, or each
  // periodic sync of the whole catalogue leaves the heap a little larger.
  malloc_trim(0);
  if (error)
    return failed(self, config, run, *error);
  st.failures = 0;
  st.syncs->inc({"ok"});
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started);
  actors::log::info(st.name, "synced", {{"method", to_string(method)}, {"fetched", fetched},
                                        {"added", added}, {"took", took}});
  schedule(self, run, config.interval);
}

caf::behavior platform_sync(sync_self self, platform_sync_config config, actors::handle repository,
                            std::shared_ptr<shared::metrics::registry> metrics) {
  actors::fail_on_exception(self);
  self->state.client = std::make_unique<platform_client>(config.target, config.ca_pem,
                                                         config.max_message_bytes);
  self->state.metrics = metrics;
  self->state.syncs = &metrics->counter("command_platform_syncs_total",
                                        "Platform syncs over gRPC by outcome", {"outcome"});
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
