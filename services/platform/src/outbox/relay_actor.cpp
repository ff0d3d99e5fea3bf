#include "outbox/relay_actor.hpp"

#include "outbox/amqp_publisher.hpp"
#include "store/platform_store.hpp"

#include <actors/log.hpp>
#include <actors/supervisor.hpp>

#include <utility>

namespace platform {

namespace {

using clock = std::chrono::steady_clock;

struct relay_metrics {
  explicit relay_metrics(shared::metrics::registry& m)
    : published(m.counter("outbox_published_total", "Events confirmed by the broker")),
      nacked(m.counter("outbox_nacked_total", "Events the broker nacked (retried)")),
      returned(m.counter("outbox_returned_total", "Events confirmed but routed to no queue")),
      failures(m.counter("outbox_publish_failures_total", "Relay rounds failed by an error")),
      backlog(m.gauge("outbox_backlog", "Committed events not yet confirmed")) {}
  shared::metrics::counter_family& published;
  shared::metrics::counter_family& nacked;
  shared::metrics::counter_family& returned;
  shared::metrics::counter_family& failures;
  shared::metrics::gauge_family& backlog;
};

struct relay_state {
  std::string name = "platform.outbox_relay";
  std::unique_ptr<platform_store> store;
  std::unique_ptr<amqp_publisher> publisher;
  std::shared_ptr<shared::metrics::registry> registry;
  std::unique_ptr<relay_metrics> metrics;
  std::shared_ptr<relay_doorbell> doorbell;
  clock::time_point next_backlog_read;
  // Each round schedules the next tick under a new number; a wake runs a
  // round at once, which turns the tick still scheduled into a stale one.
  std::uint64_t round = 0;
  bool idle = false; // the last round found nothing: waiting for a tick or a wake
  bool leading = false;
  bool standing_by = false; // the standby line is logged once
  // The backlog found on taking the lead (events committed while no relay
  // published: a broker outage, a crash), told in the log until drained.
  struct {
    std::int64_t found = 0;
    std::size_t published = 0;
    clock::time_point since;
  } backlog;
};

using relay_actor = caf::stateful_actor<relay_state>;

void mark_settled(relay_actor* self) {
  auto& st = self->state;
  auto out = st.publisher->settle_oldest();
  st.store->mark_published(out.confirmed);
  st.metrics->published.inc({}, static_cast<double>(out.confirmed.size()));
  st.backlog.published += out.confirmed.size();
  st.metrics->nacked.inc({}, static_cast<double>(out.nacked));
  st.metrics->returned.inc({}, static_cast<double>(out.returned));
  actors::log::debug(st.name, "batch_confirmed",
                     {{"confirmed", out.confirmed.size()}, {"nacked", out.nacked},
                      {"returned", out.returned}});
}

// True once this relay holds the database's relay lock; until then it stands
// by, trying again each poll, and takes over when the leader's session ends.
bool lead(relay_actor* self) {
  auto& st = self->state;
  if (st.leading)
    return true;
  st.leading = st.store->lead_relay();
  if (st.leading) {
    actors::log::info(st.name, "leading", {{"detail", "publishes this database's outbox"}});
    st.backlog = {st.store->backlog(), 0, clock::now()};
    if (st.backlog.found > 0)
      actors::log::info(st.name, "backlog_found", {{"events", st.backlog.found}});
  } else if (!std::exchange(st.standing_by, true))
    actors::log::info(st.name, "standby", {{"detail", "another replica's relay holds the lock"}});
  return st.leading;
}

// One round: send the next batch while up to `batches_in_flight` are
// unconfirmed (the broker confirms one while the next goes out), and settle
// and mark the oldest once the pipeline is full or nothing more is pending.
// Nacked rows, and rows committed late with an id inside the span in flight,
// stay pending and go out in a later batch. True while there is work left.
bool publish_round(relay_actor* self, const relay_config& cfg) {
  auto& st = self->state;
  if (!lead(self)) {
    st.publisher->keep_alive();
    return false;
  }
  std::vector<outbox_event> events;
  if (st.publisher->in_flight() < cfg.batches_in_flight) {
    events = st.store->pending(cfg.batch_size, st.publisher->in_flight_ids());
    st.publisher->send(events);
  }
  if (st.publisher->in_flight() == 0) {
    st.publisher->keep_alive();
    if (std::exchange(st.backlog.found, 0) > 0)
      actors::log::info(st.name, "backlog_drained",
                        {{"published", st.backlog.published},
                         {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                  clock::now() - st.backlog.since).count()}});
    return false;
  }
  if (st.publisher->in_flight() == cfg.batches_in_flight || events.empty())
    mark_settled(self);
  return true;
}

void update_backlog(relay_actor* self) {
  auto& st = self->state;
  if (clock::now() < st.next_backlog_read)
    return;
  st.next_backlog_read = clock::now() + std::chrono::seconds(1);
  st.metrics->backlog.set({}, static_cast<double>(st.store->backlog()));
}

void run_round(relay_actor* self, const relay_config& cfg) {
  auto& st = self->state;
  bool more;
  try {
    more = publish_round(self, cfg);
    update_backlog(self);
  } catch (...) {
    st.metrics->failures.inc({});
    throw;
  }
  st.idle = !more;
  if (more)
    self->send(self, tick_atom::value, ++st.round);
  else
    self->delayed_send(self, cfg.poll_interval, tick_atom::value, ++st.round);
}

caf::behavior relay(relay_actor* self, relay_config cfg,
                    std::shared_ptr<shared::metrics::registry> registry,
                    std::shared_ptr<relay_doorbell> doorbell) {
  actors::fail_on_exception(self);
  auto& st = self->state;
  st.registry = std::move(registry);
  st.metrics = std::make_unique<relay_metrics>(*st.registry);
  st.store = std::make_unique<platform_store>(cfg.database);
  st.store->migrate(); // idempotent; the relay may start before the repository did
  // Before the broker: while it is away, each restart attempt still counts
  // the events waiting for it.
  update_backlog(self);
  st.publisher = std::make_unique<amqp_publisher>(cfg);
  st.doorbell = std::move(doorbell);
  st.doorbell->attach(self);
  actors::log::info(st.name, "connected", {{"broker", cfg.host + ":" + std::to_string(cfg.port)},
                                           {"exchange", cfg.exchange},
                                           {"durable", cfg.durable_exchange}});
  self->send(self, tick_atom::value, st.round);
  return {
    [=](tick_atom, std::uint64_t round) {
      if (round == self->state.round)
        run_round(self, cfg);
    },
    [=](wake_atom) {
      auto& st = self->state;
      st.doorbell->take();
      if (!st.leading) // the leader runs in another replica: tell it
        st.store->notify_relay();
      else if (st.idle)
        run_round(self, cfg);
    },
    [=](replica_wake_atom) {
      if (self->state.leading && self->state.idle)
        run_round(self, cfg);
    },
  };
}

} // namespace

caf::actor spawn_relay(caf::actor_system& sys, const relay_config& cfg,
                       std::shared_ptr<shared::metrics::registry> metrics,
                       std::shared_ptr<relay_doorbell> doorbell) {
  return sys.spawn<caf::detached>(relay, cfg, std::move(metrics), std::move(doorbell));
}

} // namespace platform
